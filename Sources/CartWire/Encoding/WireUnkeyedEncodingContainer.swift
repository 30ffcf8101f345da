/// Writes a sequence as a repeated field: every element is its own occurrence of `field`
/// in the enclosing message (not packed), so any element type, including messages, works
/// the same way, and an empty sequence writes nothing.
struct WireUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    let writer: WireWriter
    let field: UInt32
    let level: Int32
    private(set) var count = 0

    init(writer: WireWriter, field: UInt32, level: Int32) {
        self.writer = writer
        self.field = field
        self.level = level
    }

    var codingPath: [any CodingKey] { [] }

    @inline(__always)
    private mutating func begin() -> UInt32 {
        writer.closeMessages(ownedAtOrBelow: Int(level))
        count += 1
        return field
    }

    mutating func encodeNil() throws {
        throw WireEncodingError(.unsupportedShape, "nil cannot be an element of a repeated field (field \(field))")
    }

    mutating func encode(_ value: Bool) throws { writer.writeVarintField(begin(), value ? 1 : 0) }
    mutating func encode(_ value: String) throws { writer.writeStringField(begin(), value) }
    mutating func encode(_ value: Double) throws { writer.writeFixed64Field(begin(), value.bitPattern) }
    mutating func encode(_ value: Float) throws { writer.writeFixed32Field(begin(), value.bitPattern) }
    mutating func encode(_ value: Int) throws { writer.writeSignedField(begin(), Int64(value)) }
    mutating func encode(_ value: Int8) throws { writer.writeSignedField(begin(), Int64(value)) }
    mutating func encode(_ value: Int16) throws { writer.writeSignedField(begin(), Int64(value)) }
    mutating func encode(_ value: Int32) throws { writer.writeSignedField(begin(), Int64(value)) }
    mutating func encode(_ value: Int64) throws { writer.writeSignedField(begin(), value) }
    mutating func encode(_ value: UInt) throws { writer.writeVarintField(begin(), UInt64(value)) }
    mutating func encode(_ value: UInt8) throws { writer.writeVarintField(begin(), UInt64(value)) }
    mutating func encode(_ value: UInt16) throws { writer.writeVarintField(begin(), UInt64(value)) }
    mutating func encode(_ value: UInt32) throws { writer.writeVarintField(begin(), UInt64(value)) }
    mutating func encode(_ value: UInt64) throws { writer.writeVarintField(begin(), value) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try writer.encodeValue(value, field: begin(), level: level, position: .element)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        writer.openMessage(field: begin(), ownerLevel: Int(level))
        return KeyedEncodingContainer(WireKeyedEncodingContainer<NestedKey>(writer: writer, level: level + 1))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        writer.openMessage(field: begin(), ownerLevel: Int(level))
        return WireUnkeyedEncodingContainer(writer: writer, field: 1, level: level + 1)
    }

    mutating func superEncoder() -> any Encoder {
        writer.defer(WireEncodingError(.unsupportedShape, "superEncoder (class inheritance) is not supported"))
        return WireEncoderImpl(writer: writer, field: begin(), level: level, position: .element)
    }
}
