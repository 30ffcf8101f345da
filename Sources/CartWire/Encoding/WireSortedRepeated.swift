/// Collections whose iteration order is not determined by their value (Set, Dictionary)
/// encode their elements sorted by encoded bytes, so equal values give equal bytes in every
/// process. Their own Codable conformances would follow hash order (and a Dictionary with
/// String keys would even ask for a keyed container with string keys).
protocol WireSortedRepeated {
    func wireEncodeSorted(into encoder: WireEncoderImpl) throws
}

extension Set: WireSortedRepeated where Element: Encodable {
    /// Each element is one occurrence of the repeated field.
    func wireEncodeSorted(into encoder: WireEncoderImpl) throws {
        let writer = encoder.writer
        let (field, level) = encoder.repeatedTarget()
        var chunks: [Range<Int>] = []
        chunks.reserveCapacity(count)
        for element in self {
            let start = writer.bytes.count
            try writer.encodeValue(element, field: field, level: level, position: .element)
            writer.closeMessages(ownedAtOrBelow: Int(level))
            chunks.append(start..<writer.bytes.count)
        }
        writer.sortChunks(chunks)
    }
}

extension Dictionary: WireSortedRepeated where Key: Encodable, Value: Encodable {
    /// Each entry is one occurrence of the repeated field: a message with the key as field 1
    /// and the value as field 2 (protobuf's map encoding).
    func wireEncodeSorted(into encoder: WireEncoderImpl) throws {
        let writer = encoder.writer
        let (field, level) = encoder.repeatedTarget()
        var chunks: [Range<Int>] = []
        chunks.reserveCapacity(count)
        for (key, value) in self {
            let start = writer.bytes.count
            writer.closeMessages(ownedAtOrBelow: Int(level))
            writer.openMessage(field: field, ownerLevel: Int(level))
            try writer.encodeValue(key, field: 1, level: level + 1, position: .field)
            try writer.encodeValue(value, field: 2, level: level + 1, position: .field)
            writer.closeMessages(ownedAtOrBelow: Int(level))
            chunks.append(start..<writer.bytes.count)
        }
        writer.sortChunks(chunks)
    }
}
