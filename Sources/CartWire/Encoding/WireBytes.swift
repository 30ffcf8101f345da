#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The field writers shared by the generic encoder (`WireWriter`) and the hand-written
/// fast path (`WireFieldWriter`), so both produce the same bytes by construction.
extension Array where Element == UInt8 {
    @inline(__always)
    mutating func appendTag(_ field: UInt32, _ wireType: WireType) {
        Varint.append(FieldTag.make(field: field, wireType: wireType), to: &self)
    }

    @inline(__always)
    mutating func appendVarintField(_ field: UInt32, _ value: UInt64) {
        appendTag(field, .varint)
        Varint.append(value, to: &self)
    }

    mutating func appendFixed32Field(_ field: UInt32, _ bits: UInt32) {
        appendTag(field, .fixed32)
        Swift.withUnsafeBytes(of: bits.littleEndian) { append(contentsOf: $0) }
    }

    mutating func appendFixed64Field(_ field: UInt32, _ bits: UInt64) {
        appendTag(field, .fixed64)
        Swift.withUnsafeBytes(of: bits.littleEndian) { append(contentsOf: $0) }
    }

    @inline(__always)
    mutating func appendBytesField(_ field: UInt32, _ raw: UnsafeRawBufferPointer) {
        appendTag(field, .lengthDelimited)
        Varint.append(UInt64(raw.count), to: &self)
        append(contentsOf: raw)
    }

    @inline(__always)
    mutating func appendStringField(_ field: UInt32, _ string: String) {
        var string = string
        string.withUTF8 { appendBytesField(field, UnsafeRawBufferPointer($0)) }
    }

    mutating func appendDateField(_ field: UInt32, _ date: Date) throws(WireEncodingError) {
        // Nearest, not down: a decoded date (ms / 1000 as Double) times 1000 may land a hair
        // below the whole millisecond it came from.
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded(.toNearestOrAwayFromZero)
        guard let value = Int64(exactly: milliseconds), WireDate.millisecondsRange.contains(value) else {
            throw WireEncodingError(.unsupportedShape, "date \(date.timeIntervalSince1970)s since 1970 is outside ±\(WireDate.millisecondsMax) ms")
        }
        appendVarintField(field, Varint.zigzag(value))
    }

    mutating func appendUUIDField(_ field: UInt32, _ uuid: UUID) {
        Swift.withUnsafeBytes(of: uuid.uuid) { appendBytesField(field, $0) }
    }

    /// Starts a nested message: tag and a one-byte length placeholder. Returns the
    /// placeholder's index for `patchLength`.
    mutating func appendMessageStart(_ field: UInt32) -> Int {
        appendTag(field, .lengthDelimited)
        append(0)
        return count - 1
    }

    /// Writes the length of everything after `placeholder` into it, widening it in place
    /// when the length needs more than one varint byte.
    mutating func patchLength(placeholder: Int) {
        let length = count - placeholder - 1
        if length < 0x80 {
            self[placeholder] = UInt8(length)
            return
        }
        let width = Varint.encodedCount(UInt64(length))
        insert(contentsOf: repeatElement(0, count: width - 1), at: placeholder + 1)
        var rest = UInt64(length)
        for offset in 0..<width {
            self[placeholder + offset] = UInt8(truncatingIfNeeded: rest) | (offset == width - 1 ? 0 : 0x80)
            rest >>= 7
        }
    }
}
