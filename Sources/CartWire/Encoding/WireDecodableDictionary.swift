/// Dictionaries decode from the repeated entry messages `WireSortedRepeated` writes
/// (key = field 1, value = field 2), not through their own Codable conformance, which would
/// ask for string keys. A key that appears twice keeps its last value, as in protobuf maps.
protocol WireDecodableDictionary {
    init(wireDecoder decoder: WireDecoderImpl) throws
}

extension Dictionary: WireDecodableDictionary where Key: Decodable, Value: Decodable {
    init(wireDecoder decoder: WireDecoderImpl) throws {
        let reader = decoder.reader
        let source = try decoder.repeatedSource()
        var entries = try WireUnkeyedDecodingContainer(reader: reader, start: source.start, end: source.end,
                                                       field: source.field, depth: source.depth,
                                                       bodyAlreadyCharged: decoder.location.kind == .field)
        self.init()
        while !entries.isAtEnd {
            let entry = try entries.nestedContainer(keyedBy: EntryKey.self)
            let key = try entry.decode(Key.self, forKey: .key)
            self[key] = try entry.decode(Value.self, forKey: .value)
        }
    }
}

private enum EntryKey: Int, CodingKey {
    case key = 1, value = 2
}
