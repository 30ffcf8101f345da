/// Reads the fields of one message. The body is validated once when the container is made
/// (every tag and length well-formed, charged to the element budget); each lookup then walks
/// the body again, which for messages of a few dozen fields is cheaper than building an index.
struct WireKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let reader: WireReader
    let start: Int
    let end: Int
    /// Depth of this message; the values of its fields are one deeper.
    let depth: UInt16

    init(reader: WireReader, start: Int, end: Int, depth: UInt16) throws(WireEncodingError) {
        self.reader = reader
        self.start = start
        self.end = end
        self.depth = depth
        _ = try reader.validateMessage(start, end)
    }

    var codingPath: [any CodingKey] { [] }

    /// The keys of `Key` present in the message, each once, in field order.
    var allKeys: [Key] {
        var offset = start
        var seen: [UInt32] = []
        var keys: [Key] = []
        while offset < end, let field = try? reader.readField(at: &offset, end: end) {
            guard !seen.contains(field.number) else { continue }
            seen.append(field.number)
            if let key = FieldNumber.key(field.number, as: Key.self) { keys.append(key) }
        }
        return keys
    }

    func contains(_ key: Key) -> Bool {
        guard let number = try? FieldNumber.of(key) else { return false }
        return ((try? reader.lastField(number, in: start, end)) ?? nil) != nil
    }

    func decodeNil(forKey key: Key) throws -> Bool { !contains(key) }

    @inline(__always)
    private func field(_ key: Key) throws(WireEncodingError) -> FieldRef {
        let number = try FieldNumber.of(key)
        guard let field = try reader.lastField(number, in: start, end) else {
            throw WireEncodingError(.missingField, "\(String(reflecting: Key.self)).\(key.stringValue) (field \(number)) is missing")
        }
        return field
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try reader.bool(field(key)) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try reader.string(field(key)) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try reader.double(field(key)) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try reader.float(field(key)) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try reader.signed(field(key), as: type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try reader.signed(field(key), as: type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try reader.signed(field(key), as: type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try reader.signed(field(key), as: type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try reader.signed(field(key), as: type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try reader.unsigned(field(key), as: type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try reader.unsigned(field(key), as: type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try reader.unsigned(field(key), as: type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try reader.unsigned(field(key), as: type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try reader.unsigned(field(key), as: type) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let number = try FieldNumber.of(key)
        do {
            return try reader.decodeValue(type, at: location(number))
        } catch let error as WireEncodingError where error.kind == .missingField && !contains(key) {
            // Name the key: the nested decoder only knew the field number.
            throw WireEncodingError(.missingField, "\(String(reflecting: Key.self)).\(key.stringValue) (field \(number)) is missing")
        }
    }

    private func location(_ number: UInt32) -> DecodeLocation {
        DecodeLocation(start: UInt32(start), end: UInt32(end), field: number, kind: .field,
                       wireType: .lengthDelimited, depth: depth + 1)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type,
                                               forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try WireDecoderImpl(reader: reader, location: location(try FieldNumber.of(key))).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try WireDecoderImpl(reader: reader, location: location(try FieldNumber.of(key))).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        throw WireEncodingError(.unsupportedShape, "superDecoder (class inheritance) is not supported")
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        try superDecoder()
    }
}
