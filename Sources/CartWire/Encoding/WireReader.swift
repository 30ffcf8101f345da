#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One field as found in the input: its number, wire type, and where its value lies
/// (for length-delimited fields, the bytes after the length).
struct FieldRef {
    var number: UInt32
    var wireType: WireType
    var start: Int
    var end: Int
}

/// The input of one decode and the budget it may spend. The input is borrowed for the
/// duration of the decode only; nothing keeps a pointer to it afterwards.
final class WireReader {
    let input: UnsafeRawBufferPointer
    let limits: WireLimits
    private var elementsSeen = 0

    init(input: UnsafeRawBufferPointer, limits: WireLimits) {
        self.input = input
        self.limits = limits
    }

    // MARK: walking a message

    /// Reads the field starting at `offset` in a message ending at `end`, and moves `offset`
    /// past it. Every length is checked against `end` before anything relies on it.
    @inline(__always)
    func readField(at offset: inout Int, end: Int) throws(WireEncodingError) -> FieldRef {
        let tagOffset = offset
        let tag = try Varint.read(from: input, offset: &offset, end: end)
        guard let wireType = WireType(rawValue: UInt8(tag & 7)) else {
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
            _ = try Varint.read(from: input, offset: &offset, end: end)
        case .fixed64, .fixed32:
            start = offset
            let width = wireType == .fixed64 ? 8 : 4
            guard end - offset >= width else {
                throw WireEncodingError(.truncated, "field \(number) needs \(width) bytes at byte \(offset), \(end - offset) remain")
            }
            offset += width
        case .lengthDelimited:
            let length = try Varint.read(from: input, offset: &offset, end: end)
            guard length <= UInt64(end - offset) else {
                throw WireEncodingError(.lengthExceedsInput, "field \(number) declares \(length) bytes at byte \(offset), \(end - offset) remain")
            }
            start = offset
            offset += Int(length)
        }
        return FieldRef(number: UInt32(number), wireType: wireType, start: start, end: offset)
    }

    /// Checks that `start..<end` is a well-formed sequence of fields and, if `charging`,
    /// charges them to the element budget. Returns how many fields have number `counting`
    /// (0 counts none).
    func validateMessage(_ start: Int, _ end: Int, counting: UInt32 = 0, charging: Bool = true) throws(WireEncodingError) -> Int {
        var offset = start
        var fields = 0
        var matches = 0
        while offset < end {
            let field = try readField(at: &offset, end: end)
            fields += 1
            if field.number == counting { matches += 1 }
        }
        if charging { try charge(fields) }
        return matches
    }

    func charge(_ elements: Int) throws(WireEncodingError) {
        elementsSeen += elements
        guard elementsSeen <= limits.elementsMax else {
            throw WireEncodingError(.elementsExceeded, "more than elementsMax \(limits.elementsMax) fields and elements")
        }
    }

    /// The last occurrence of field `number` in the message `start..<end` (a repeated
    /// non-repeated field keeps its last value, as in protobuf), or nil.
    func lastField(_ number: UInt32, in start: Int, _ end: Int) throws(WireEncodingError) -> FieldRef? {
        var offset = start
        var found: FieldRef?
        while offset < end {
            let field = try readField(at: &offset, end: end)
            if field.number == number { found = field }
        }
        return found
    }

    /// The next occurrence of field `number` at or after `offset`, moving `offset` past it.
    func nextField(_ number: UInt32, from offset: inout Int, end: Int) throws(WireEncodingError) -> FieldRef? {
        while offset < end {
            let field = try readField(at: &offset, end: end)
            if field.number == number { return field }
        }
        return nil
    }

    func checkDepth(_ depth: Int) throws(WireEncodingError) {
        guard depth <= limits.depthMax else {
            throw WireEncodingError(.depthExceeded, "nesting deeper than depthMax \(limits.depthMax)")
        }
    }
}
