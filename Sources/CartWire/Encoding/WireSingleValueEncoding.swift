/// A single value is written as one field at the encoder's own field number (field 1 at
/// the top level). Identifiers and raw-value enums come through here, so they cost exactly
/// their raw value on the wire.
extension WireEncoderImpl: SingleValueEncodingContainer {
    private var scalarField: UInt32 { position == .root ? 1 : field }

    mutating func encodeNil() throws {
        guard position == .element else { return }
        throw WireEncodingError(.unsupportedShape, "nil cannot be an element of a repeated field (field \(field))")
    }

    mutating func encode(_ value: Bool) throws { writer.writeVarintField(scalarField, value ? 1 : 0) }
    mutating func encode(_ value: String) throws { writer.writeStringField(scalarField, value) }
    mutating func encode(_ value: Double) throws { writer.writeFixed64Field(scalarField, value.bitPattern) }
    mutating func encode(_ value: Float) throws { writer.writeFixed32Field(scalarField, value.bitPattern) }
    mutating func encode(_ value: Int) throws { writer.writeSignedField(scalarField, Int64(value)) }
    mutating func encode(_ value: Int8) throws { writer.writeSignedField(scalarField, Int64(value)) }
    mutating func encode(_ value: Int16) throws { writer.writeSignedField(scalarField, Int64(value)) }
    mutating func encode(_ value: Int32) throws { writer.writeSignedField(scalarField, Int64(value)) }
    mutating func encode(_ value: Int64) throws { writer.writeSignedField(scalarField, value) }
    mutating func encode(_ value: UInt) throws { writer.writeVarintField(scalarField, UInt64(value)) }
    mutating func encode(_ value: UInt8) throws { writer.writeVarintField(scalarField, UInt64(value)) }
    mutating func encode(_ value: UInt16) throws { writer.writeVarintField(scalarField, UInt64(value)) }
    mutating func encode(_ value: UInt32) throws { writer.writeVarintField(scalarField, UInt64(value)) }
    mutating func encode(_ value: UInt64) throws { writer.writeVarintField(scalarField, value) }

    /// A wrapper that encodes another value as its single value is transparent: the inner
    /// value takes the wrapper's place.
    mutating func encode<T: Encodable>(_ value: T) throws {
        try writer.encodeValue(value, field: field, level: level, position: position)
    }
}
