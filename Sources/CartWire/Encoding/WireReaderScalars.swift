#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The input of one decode, for reading fields and the values in them: a plain pointer, so
/// the hand-written fast path (`WireFieldReader`, `WireField`) reads without touching the
/// `WireReader` object. Valid only during the decode that borrowed the input.
struct WireInput {
    let bytes: UnsafeRawBufferPointer

    /// Reads the field starting at `offset` in a message ending at `end`, and moves `offset`
    /// past it. Every length is checked against `end` before anything relies on it.
    @inline(__always)
    func readField(at offset: inout Int, end: Int) throws(WireEncodingError) -> FieldRef {
        let tagOffset = offset
        let tag = try Varint.read(from: bytes, offset: &offset, end: end)
        let wireType: WireType
        switch tag & 7 {
        case 0: wireType = .varint
        case 1: wireType = .fixed64
        case 2: wireType = .lengthDelimited
        case 5: wireType = .fixed32
        default:
            throw WireEncodingError(.invalidWireType, "wire type \(tag & 7) at byte \(tagOffset) is not 0, 1, 2 or 5")
        }
        let number = tag >> 3
        guard number >= 1 && number <= UInt64(FieldTag.fieldNumberMax) else {
            throw WireEncodingError(.invalidFieldNumber, "field number \(number) at byte \(tagOffset) is outside 1...\(FieldTag.fieldNumberMax)")
        }
        let start: Int
        switch wireType {
        case .varint:
            start = offset
            _ = try Varint.read(from: bytes, offset: &offset, end: end)
        case .fixed64, .fixed32:
            start = offset
            let width = wireType == .fixed64 ? 8 : 4
            guard end - offset >= width else {
                throw WireEncodingError(.truncated, "field \(number) needs \(width) bytes at byte \(offset), \(end - offset) remain")
            }
            offset += width
        case .lengthDelimited:
            let length = try Varint.read(from: bytes, offset: &offset, end: end)
            guard length <= UInt64(end - offset) else {
                throw WireEncodingError(.lengthExceedsInput, "field \(number) declares \(length) bytes at byte \(offset), \(end - offset) remain")
            }
            start = offset
            offset += Int(length)
        }
        return FieldRef(number: UInt32(number), wireType: wireType, start: start, end: offset)
    }
}

/// Reading a Swift value out of one field, checking that the wire type and the value fit.
extension WireInput {
    @inline(__always)
    private func expect(_ field: FieldRef, _ wireType: WireType, for type: Any.Type) throws(WireEncodingError) {
        guard field.wireType == wireType else {
            throw WireEncodingError(.typeMismatch, "field \(field.number) has wire type \(field.wireType.rawValue), \(type) needs \(wireType.rawValue)")
        }
    }

    @inline(__always)
    func unsigned<I: FixedWidthInteger>(_ field: FieldRef, as type: I.Type) throws(WireEncodingError) -> I {
        try expect(field, .varint, for: I.self)
        var offset = field.start
        let raw = try Varint.read(from: bytes, offset: &offset, end: field.end)
        guard let value = I(exactly: raw) else {
            throw WireEncodingError(.invalidValue, "field \(field.number): \(raw) does not fit in \(I.self)")
        }
        return value
    }

    @inline(__always)
    func signed<I: FixedWidthInteger>(_ field: FieldRef, as type: I.Type) throws(WireEncodingError) -> I {
        try expect(field, .varint, for: I.self)
        var offset = field.start
        let raw = Varint.unzigzag(try Varint.read(from: bytes, offset: &offset, end: field.end))
        guard let value = I(exactly: raw) else {
            throw WireEncodingError(.invalidValue, "field \(field.number): \(raw) does not fit in \(I.self)")
        }
        return value
    }

    func bool(_ field: FieldRef) throws(WireEncodingError) -> Bool {
        switch try unsigned(field, as: UInt64.self) {
        case 0: return false
        case 1: return true
        case let other: throw WireEncodingError(.invalidValue, "field \(field.number): Bool must be 0 or 1, not \(other)")
        }
    }

    func double(_ field: FieldRef) throws(WireEncodingError) -> Double {
        try expect(field, .fixed64, for: Double.self)
        return Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: field.start, as: UInt64.self)))
    }

    func float(_ field: FieldRef) throws(WireEncodingError) -> Float {
        try expect(field, .fixed32, for: Float.self)
        return Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: field.start, as: UInt32.self)))
    }

    func rawBytes(_ field: FieldRef, for type: Any.Type) throws(WireEncodingError) -> UnsafeRawBufferPointer {
        try expect(field, .lengthDelimited, for: type)
        return UnsafeRawBufferPointer(rebasing: bytes[field.start..<field.end])
    }

    func string(_ field: FieldRef) throws(WireEncodingError) -> String {
        let raw = try rawBytes(field, for: String.self)
        let string = String(decoding: raw, as: UTF8.self)
        // ASCII is valid UTF-8; otherwise decoding may have repaired bad UTF-8 with U+FFFD,
        // and comparing back detects that it had to.
        if Self.isASCII(raw) { return string }
        guard string.utf8.count == raw.count && string.utf8.elementsEqual(raw) else {
            throw WireEncodingError(.invalidUTF8, "field \(field.number) is not valid UTF-8")
        }
        return string
    }

    @inline(__always)
    private static func isASCII(_ raw: UnsafeRawBufferPointer) -> Bool {
        var combined: UInt8 = 0
        for byte in raw { combined |= byte }
        return combined < 0x80
    }

    func bytes(_ field: FieldRef) throws(WireEncodingError) -> [UInt8] {
        Array(try rawBytes(field, for: [UInt8].self))
    }

    func data(_ field: FieldRef) throws(WireEncodingError) -> Data {
        Data(try rawBytes(field, for: Data.self))
    }

    func uuid(_ field: FieldRef) throws(WireEncodingError) -> UUID {
        let raw = try rawBytes(field, for: UUID.self)
        guard raw.count == 16 else {
            throw WireEncodingError(.invalidValue, "field \(field.number): UUID needs 16 bytes, has \(raw.count)")
        }
        var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &uuid) { $0.copyMemory(from: raw) }
        return UUID(uuid: uuid)
    }

    func date(_ field: FieldRef) throws(WireEncodingError) -> Date {
        let milliseconds = try signed(field, as: Int64.self)
        guard WireDate.millisecondsRange.contains(milliseconds) else {
            throw WireEncodingError(.invalidValue, "field \(field.number): date \(milliseconds) ms is outside ±\(WireDate.millisecondsMax) ms")
        }
        return Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}

/// The generic path reads values through its `WireReader`, with the same checks.
extension WireReader {
    @inline(__always) var source: WireInput { WireInput(bytes: input) }

    @inline(__always)
    func unsigned<I: FixedWidthInteger>(_ field: FieldRef, as type: I.Type) throws(WireEncodingError) -> I { try source.unsigned(field, as: type) }
    @inline(__always)
    func signed<I: FixedWidthInteger>(_ field: FieldRef, as type: I.Type) throws(WireEncodingError) -> I { try source.signed(field, as: type) }
    func bool(_ field: FieldRef) throws(WireEncodingError) -> Bool { try source.bool(field) }
    func double(_ field: FieldRef) throws(WireEncodingError) -> Double { try source.double(field) }
    func float(_ field: FieldRef) throws(WireEncodingError) -> Float { try source.float(field) }
    func rawBytes(_ field: FieldRef, for type: Any.Type) throws(WireEncodingError) -> UnsafeRawBufferPointer { try source.rawBytes(field, for: type) }
    func string(_ field: FieldRef) throws(WireEncodingError) -> String { try source.string(field) }
    func bytes(_ field: FieldRef) throws(WireEncodingError) -> [UInt8] { try source.bytes(field) }
    func data(_ field: FieldRef) throws(WireEncodingError) -> Data { try source.data(field) }
    func uuid(_ field: FieldRef) throws(WireEncodingError) -> UUID { try source.uuid(field) }
    func date(_ field: FieldRef) throws(WireEncodingError) -> Date { try source.date(field) }
}
