/// Base-128 varints (least significant group first, high bit = "more bytes follow") and the
/// zigzag mapping that makes small negative numbers short (0→0, -1→1, 1→2, -2→3, …).
public enum Varint {
    /// A UInt64 never needs more than ten 7-bit groups.
    public static let bytesMax = 10

    /// The number of bytes `value` takes as a varint.
    @inlinable
    public static func encodedCount(_ value: UInt64) -> Int {
        // Bits needed, rounded up to whole 7-bit groups; zero still takes one byte.
        let bits = 64 - (value | 1).leadingZeroBitCount
        return (bits + 6) / 7
    }

    @inlinable
    public static func zigzag(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value << 1) ^ (value >> 63))
    }

    @inlinable
    public static func unzigzag(_ value: UInt64) -> Int64 {
        Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1)
    }

    /// Appends `value` as a varint.
    @inlinable
    public static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(truncatingIfNeeded: rest))
    }

    /// Reads a varint starting at `offset` in `bytes`, advancing `offset` past it.
    /// Fails on a truncated varint, on more than ten bytes, and on a tenth byte that would
    /// overflow 64 bits, so every UInt64 has exactly one accepted shortest-or-padded form
    /// no longer than ten bytes.
    @inlinable @inline(__always)
    public static func read(from bytes: UnsafeRawBufferPointer, offset: inout Int, end: Int) throws(WireEncodingError) -> UInt64 {
        // Most tags and values fit in one byte: that case inline, the loop out of line.
        if offset < end, bytes[offset] < 0x80 {
            offset += 1
            return UInt64(bytes[offset - 1])
        }
        return try readMultibyte(from: bytes, offset: &offset, end: end)
    }

    @usableFromInline
    static func readMultibyte(from bytes: UnsafeRawBufferPointer, offset: inout Int, end: Int) throws(WireEncodingError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        var index = offset
        while true {
            guard index < end else {
                throw WireEncodingError(.truncated, "varint runs past the end of its message at byte \(index)")
            }
            let byte = bytes[index]
            index += 1
            if shift == 63 && byte > 1 {
                throw WireEncodingError(.varintOverflow, "varint does not fit in 64 bits at byte \(index - 1)")
            }
            result |= UInt64(byte & 0x7f) << shift
            if byte < 0x80 { break }
            shift += 7
            if shift > 63 {
                throw WireEncodingError(.varintOverflow, "varint longer than \(bytesMax) bytes at byte \(index - 1)")
            }
        }
        offset = index
        return result
    }
}
