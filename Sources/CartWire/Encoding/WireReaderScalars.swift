#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reading a Swift value out of one field, checking that the wire type and the value fit.
extension WireReader {
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
        let raw = try Varint.read(from: input, offset: &offset, end: field.end)
        guard let value = I(exactly: raw) else {
            throw WireEncodingError(.invalidValue, "field \(field.number): \(raw) does not fit in \(I.self)")
        }
        return value
    }

    @inline(__always)
    func signed<I: FixedWidthInteger>(_ field: FieldRef, as type: I.Type) throws(WireEncodingError) -> I {
        try expect(field, .varint, for: I.self)
        var offset = field.start
        let raw = Varint.unzigzag(try Varint.read(from: input, offset: &offset, end: field.end))
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
        return Double(bitPattern: UInt64(littleEndian: input.loadUnaligned(fromByteOffset: field.start, as: UInt64.self)))
    }

    func float(_ field: FieldRef) throws(WireEncodingError) -> Float {
        try expect(field, .fixed32, for: Float.self)
        return Float(bitPattern: UInt32(littleEndian: input.loadUnaligned(fromByteOffset: field.start, as: UInt32.self)))
    }

    func rawBytes(_ field: FieldRef, for type: Any.Type) throws(WireEncodingError) -> UnsafeRawBufferPointer {
        try expect(field, .lengthDelimited, for: type)
        return UnsafeRawBufferPointer(rebasing: input[field.start..<field.end])
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
