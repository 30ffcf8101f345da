/// How the value after a field tag is laid out, so that a decoder can skip a field it does
/// not know without knowing its type. The numbers are protobuf's; groups (3, 4) do not exist
/// here and are rejected like any other unassigned wire type.
public enum WireType: UInt8, Sendable, CaseIterable {
    /// A base-128 varint: unsigned integers, zigzag signed integers, Bool.
    case varint = 0
    /// Eight bytes, little-endian: Double.
    case fixed64 = 1
    /// A varint byte count, then that many bytes: String, bytes, UUID, nested messages.
    case lengthDelimited = 2
    /// Four bytes, little-endian: Float.
    case fixed32 = 5
}

/// A field key on the wire: `tag = fieldNumber << 3 | wireType`, written as a varint.
public enum FieldTag {
    /// Field numbers are positive and fit in 29 bits, as in protobuf, so a tag fits in a
    /// 32-bit varint.
    public static let fieldNumberMax: UInt32 = (1 << 29) - 1

    @inlinable
    public static func make(field: UInt32, wireType: WireType) -> UInt64 {
        UInt64(field) << 3 | UInt64(wireType.rawValue)
    }
}
