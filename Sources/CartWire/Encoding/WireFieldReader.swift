#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CartTypes

/// Reads the fields of one message by hand (see `WireMessage`), in wire order:
/// `while let field = try reader.next() { switch field.number { … default: break } }`.
/// Unknown fields are simply not matched. Valid only inside the `init(from:)` it was given to.
///
/// Readers and fields hold the decode's `WireReader` (the element budget and limits) without
/// retaining it, and read the input through a plain pointer: a retain and release per field
/// cost a fifth of a large message's decode. The decode that made the first reader keeps the
/// `WireReader` alive until it returns; no reader or field may outlive that decode (they point
/// into its borrowed input anyway).
public struct WireFieldReader {
    let reader: Unmanaged<WireReader>
    let input: WireInput
    let end: Int
    let depth: UInt16
    private var offset: Int

    init(reader: Unmanaged<WireReader>, start: Int, end: Int, depth: UInt16) throws(WireEncodingError) {
        let (input, depthFits) = reader._withUnsafeGuaranteedRef { ($0.source, Int(depth) <= $0.limits.depthMax) }
        guard depthFits else { throw reader._withUnsafeGuaranteedRef { $0.depthExceeded() } }
        self.reader = reader
        self.input = input
        self.end = end
        self.depth = depth
        self.offset = start
    }

    /// The next field, or nil at the end of the message.
    public mutating func next() throws(WireEncodingError) -> WireField? {
        guard offset < end else { return nil }
        let field = try input.readField(at: &offset, end: end)
        guard reader._withUnsafeGuaranteedRef({ $0.chargeFits(1) }) else {
            throw reader._withUnsafeGuaranteedRef { $0.elementsExceeded() }
        }
        return WireField(reader: reader, input: input, ref: field, depth: depth)
    }

    /// Throws `missingField` for a required field that `next()` never produced.
    @inlinable
    public static func required<T>(_ value: T?, _ name: StaticString, _ number: UInt32, in type: Any.Type) throws(WireEncodingError) -> T {
        guard let value else {
            throw WireEncodingError(.missingField, "\(type).\(name) (field \(number)) is missing")
        }
        return value
    }
}

extension Optional where Wrapped == WireField {
    /// The field's last occurrence, or `missingField` when the message had none.
    @inlinable
    public func required(_ name: StaticString, _ number: UInt32, in type: Any.Type) throws(WireEncodingError) -> WireField {
        try WireFieldReader.required(self, name, number, in: type)
    }
}

/// One field of a message being read by hand; the accessors check the wire type and range.
public struct WireField {
    /// Unretained, as in `WireFieldReader`.
    let reader: Unmanaged<WireReader>
    let input: WireInput
    @usableFromInline let ref: FieldRef
    let depth: UInt16

    @inlinable public var number: UInt32 { ref.number }
    @inlinable public var wireType: WireType { ref.wireType }

    public func uint64() throws(WireEncodingError) -> UInt64 { try input.unsigned(ref, as: UInt64.self) }
    public func uint32() throws(WireEncodingError) -> UInt32 { try input.unsigned(ref, as: UInt32.self) }
    public func uint16() throws(WireEncodingError) -> UInt16 { try input.unsigned(ref, as: UInt16.self) }
    public func uint8() throws(WireEncodingError) -> UInt8 { try input.unsigned(ref, as: UInt8.self) }
    public func int64() throws(WireEncodingError) -> Int64 { try input.signed(ref, as: Int64.self) }
    public func int32() throws(WireEncodingError) -> Int32 { try input.signed(ref, as: Int32.self) }
    public func int() throws(WireEncodingError) -> Int { try input.signed(ref, as: Int.self) }
    public func bool() throws(WireEncodingError) -> Bool { try input.bool(ref) }
    public func double() throws(WireEncodingError) -> Double { try input.double(ref) }
    public func float() throws(WireEncodingError) -> Float { try input.float(ref) }
    public func string() throws(WireEncodingError) -> String { try input.string(ref) }
    public func bytes() throws(WireEncodingError) -> [UInt8] { try input.bytes(ref) }
    public func uuid() throws(WireEncodingError) -> UUID { try input.uuid(ref) }
    public func date() throws(WireEncodingError) -> Date { try input.date(ref) }

    /// The string in this field, or `candidate` itself when the field holds exactly its bytes:
    /// a string repeated throughout a message (a cart's id in each of its events) then shares
    /// one storage instead of allocating a copy per occurrence.
    public func string(reusing candidate: String) throws(WireEncodingError) -> String {
        let raw = try input.rawBytes(ref, for: String.self)
        var candidate = candidate
        let same = candidate.withUTF8 { utf8 in utf8.count == raw.count && Self.sameBytes(UnsafeRawBufferPointer(utf8), raw) }
        return same ? candidate : try input.string(ref)
    }

    /// Whether two buffers of equal length hold the same bytes, compared eight at a time.
    private static func sameBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset + 8 <= a.count {
            guard a.loadUnaligned(fromByteOffset: offset, as: UInt64.self) == b.loadUnaligned(fromByteOffset: offset, as: UInt64.self) else { return false }
            offset += 8
        }
        while offset < a.count {
            guard a[offset] == b[offset] else { return false }
            offset += 1
        }
        return true
    }

    @inlinable public func identifier<I: Identifier>(_ type: I.Type) throws(WireEncodingError) -> I where I.RawValue == String { I(try string()) }
    /// A string identifier that shares `candidate`'s storage when it is equal (see `string(reusing:)`).
    @inlinable public func identifier<I: Identifier>(_ type: I.Type, reusing candidate: I) throws(WireEncodingError) -> I where I.RawValue == String {
        I(try string(reusing: candidate.rawValue))
    }
    @inlinable public func identifier<I: Identifier>(_ type: I.Type) throws(WireEncodingError) -> I where I.RawValue == UInt64 { I(try uint64()) }
    @inlinable public func identifier<I: Identifier>(_ type: I.Type) throws(WireEncodingError) -> I where I.RawValue == UInt32 { I(try uint32()) }

    /// A nested message: `body` reads its fields.
    public func message<T>(_ body: (inout WireFieldReader) throws(WireEncodingError) -> T) throws(WireEncodingError) -> T {
        _ = try input.rawBytes(ref, for: WireFieldReader.self)  // checks the wire type
        var nested = try WireFieldReader(reader: reader, start: ref.start, end: ref.end, depth: depth + 1)
        return try body(&nested)
    }

    /// A nested `WireMessage`.
    public func message<M: WireMessage>(_ type: M.Type) throws(WireEncodingError) -> M {
        try message { (nested) throws(WireEncodingError) in try M(from: &nested) }
    }

    /// Any `Decodable` value in this one field, through the generic path.
    public func decode<T: Decodable>(_ type: T.Type) throws(WireEncodingError) -> T {
        let location = DecodeLocation(start: UInt32(ref.start), end: UInt32(ref.end), field: ref.number,
                                      kind: .element, wireType: ref.wireType, depth: depth + 1)
        do {
            return try reader.takeUnretainedValue().decodeValue(type, at: location)
        } catch let error as WireEncodingError {
            throw error
        } catch {
            throw WireEncodingError(.invalidValue, "\(T.self): \(error)")
        }
    }
}
