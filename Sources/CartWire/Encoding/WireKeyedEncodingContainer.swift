/// Writes the fields of one message. Field numbers come from the keys (see `FieldNumber`);
/// a nil optional writes nothing, which is how an absent field looks on the wire.
struct WireKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let writer: WireWriter
    /// The nesting level of this message's fields; nested messages opened by them are owned
    /// by this level.
    let level: Int32

    var codingPath: [any CodingKey] { [] }

    @inline(__always)
    private func begin(_ key: Key) throws(WireEncodingError) -> UInt32 {
        writer.closeMessages(ownedAtOrBelow: Int(level))
        return try FieldNumber.of(key)
    }

    mutating func encodeNil(forKey key: Key) throws {}
    mutating func encode(_ value: Bool, forKey key: Key) throws { writer.writeVarintField(try begin(key), value ? 1 : 0) }
    mutating func encode(_ value: String, forKey key: Key) throws { writer.writeStringField(try begin(key), value) }
    mutating func encode(_ value: Double, forKey key: Key) throws { writer.writeFixed64Field(try begin(key), value.bitPattern) }
    mutating func encode(_ value: Float, forKey key: Key) throws { writer.writeFixed32Field(try begin(key), value.bitPattern) }
    mutating func encode(_ value: Int, forKey key: Key) throws { writer.writeSignedField(try begin(key), Int64(value)) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { writer.writeSignedField(try begin(key), Int64(value)) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { writer.writeSignedField(try begin(key), Int64(value)) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { writer.writeSignedField(try begin(key), Int64(value)) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { writer.writeSignedField(try begin(key), value) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { writer.writeVarintField(try begin(key), UInt64(value)) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { writer.writeVarintField(try begin(key), UInt64(value)) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { writer.writeVarintField(try begin(key), UInt64(value)) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { writer.writeVarintField(try begin(key), UInt64(value)) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { writer.writeVarintField(try begin(key), value) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try writer.encodeValue(value, field: try FieldNumber.of(key), level: level, position: .field)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type,
                                                        forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let field = writer.deferringError { () throws(WireEncodingError) in try begin(key) }
        writer.openMessage(field: field, ownerLevel: Int(level))
        return KeyedEncodingContainer(WireKeyedEncodingContainer<NestedKey>(writer: writer, level: level + 1))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let field = writer.deferringError { () throws(WireEncodingError) in try begin(key) }
        return WireUnkeyedEncodingContainer(writer: writer, field: field, level: level)
    }

    // Class inheritance has no field of its own to live in; rather than invent one, it is
    // refused (the error surfaces when the top-level encode returns).
    mutating func superEncoder() -> any Encoder {
        writer.defer(WireEncodingError(.unsupportedShape, "superEncoder (class inheritance) is not supported"))
        return WireEncoderImpl(writer: writer, field: 0, level: level, position: .field)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        superEncoder()
    }
}
