#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One field as found in the input: its number, wire type, and where its value lies
/// (for length-delimited fields, the bytes after the length).
@usableFromInline
struct FieldRef {
    @usableFromInline var number: UInt32
    @usableFromInline var wireType: WireType
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
    /// past it (see `WireInput.readField`).
    @inline(__always)
    func readField(at offset: inout Int, end: Int) throws(WireEncodingError) -> FieldRef {
        try source.readField(at: &offset, end: end)
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
        guard chargeFits(elements) else { throw elementsExceeded() }
    }

    /// Charges `elements` to the budget and tells whether it still holds; `charge` without
    /// the throw, for callers that hold this reader unretained (`WireFieldReader`).
    @inline(__always)
    func chargeFits(_ elements: Int) -> Bool {
        elementsSeen += elements
        return elementsSeen <= limits.elementsMax
    }

    func elementsExceeded() -> WireEncodingError {
        WireEncodingError(.elementsExceeded, "more than elementsMax \(limits.elementsMax) fields and elements")
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
        guard depth <= limits.depthMax else { throw depthExceeded() }
    }

    func depthExceeded() -> WireEncodingError {
        WireEncodingError(.depthExceeded, "nesting deeper than depthMax \(limits.depthMax)")
    }
}
