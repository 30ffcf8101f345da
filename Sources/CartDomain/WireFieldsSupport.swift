import CartWire

// Shared pieces of the domain's hand-written wire fields (log entries, snapshots, histories,
// events).
//
// Decoding follows the Codable path exactly: each non-repeated field remembers its last
// occurrence and decodes only that one, after the whole message has been walked (an earlier
// occurrence is skipped unread, even one that would not decode); every occurrence of a
// repeated field is an element, in order; unknown fields are skipped. So both paths give the
// same value for the same bytes, and fail on the same bytes.

/// The Codable framing of an enum whose cases each carry one unlabeled value: a message
/// holding one field, numbered by the case, whose message holds the value as field 1 (`_0`).
enum WireEnumCase {
    /// The value's own field inside a case message (Swift's `_0`).
    static let valueField: UInt32 = 1

    /// Writes case `number` with a message value written by `value`.
    @inline(__always)
    static func write(_ number: UInt32, to writer: inout WireFieldWriter,
                      _ value: (inout WireFieldWriter) throws(WireEncodingError) -> Void) throws(WireEncodingError) {
        try writer.writeMessage(number) { (wrapper) throws(WireEncodingError) in
            try wrapper.writeMessage(valueField, value)
        }
    }

    /// Writes case `number` holding `value`.
    @inline(__always)
    static func write<M: WireMessage>(_ number: UInt32, _ value: M, to writer: inout WireFieldWriter) throws(WireEncodingError) {
        try writer.writeMessage(number) { (wrapper) throws(WireEncodingError) in
            try wrapper.write(valueField, message: value)
        }
    }

    /// The one case of an enum's message: the last occurrence of its field. Field numbers in
    /// `cases` are the enum's cases; others (cases a newer writer added) are skipped, as
    /// Codable's `allKeys` skips them. No case, or two different ones, is `invalidValue`, the
    /// error Codable's "exactly one key" check becomes.
    static func soleCase(_ reader: inout WireFieldReader, cases: ClosedRange<UInt32>,
                         of type: Any.Type) throws(WireEncodingError) -> (number: UInt32, field: WireField) {
        let (found, several) = try scanCases(&reader) { cases.contains($0) }
        guard let found, !several else {
            throw WireEncodingError(.invalidValue, "\(type) needs exactly one case field, found \(several ? "several" : "none")")
        }
        return found
    }

    /// As `soleCase`, but nil when there is no case or several (for a caller that then hands
    /// the message to Codable, which reports those).
    static func soleCaseIfAny(_ reader: inout WireFieldReader,
                              isCase: (UInt32) -> Bool) throws(WireEncodingError) -> (number: UInt32, field: WireField)? {
        let (found, several) = try scanCases(&reader, isCase: isCase)
        return several ? nil : found
    }

    private static func scanCases(_ reader: inout WireFieldReader, isCase: (UInt32) -> Bool)
        throws(WireEncodingError) -> (found: (number: UInt32, field: WireField)?, several: Bool) {
        var found: (number: UInt32, field: WireField)?
        var several = false
        while let field = try reader.next() {
            guard isCase(field.number) else { continue }
            if let current = found, current.number != field.number { several = true }
            found = (field.number, field)
        }
        return (found, several)
    }

    /// The `_0` field (its last occurrence) of the case message in `field`.
    static func value(of field: WireField, in type: Any.Type) throws(WireEncodingError) -> WireField {
        try field.message { (wrapper) throws(WireEncodingError) -> WireField in
            var value: WireField?
            while let inner = try wrapper.next() {
                if inner.number == valueField { value = inner }
            }
            return try value.required("_0", valueField, in: type)
        }
    }

    /// The one case of an enum's message and its `_0` value field.
    @inline(__always)
    static func read(_ reader: inout WireFieldReader, cases: ClosedRange<UInt32>,
                     of type: Any.Type) throws(WireEncodingError) -> (number: UInt32, value: WireField) {
        let found = try soleCase(&reader, cases: cases, of: type)
        return (found.number, try value(of: found.field, in: type))
    }
}

/// A raw-valued enum from its varint: an unknown raw value is `invalidValue`, as through Codable.
@inline(__always)
func wireRawEnum<E: RawRepresentable>(_ field: WireField, _ type: E.Type) throws(WireEncodingError) -> E where E.RawValue == UInt8 {
    let raw = try field.uint8()
    guard let value = E(rawValue: raw) else {
        throw WireEncodingError(.invalidValue, "field \(field.number): \(raw) is not a \(E.self)")
    }
    return value
}
