#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CartTypes

/// Writes the fields of one message by hand (see `WireMessage`). Each method writes one
/// field; a nested message is written inside a closure, and its length is patched when the
/// closure returns. The bytes live in this struct (no reference type in between), which keeps
/// the fast path free of allocations and exclusivity checks.
public struct WireFieldWriter {
    @usableFromInline var bytes: [UInt8]

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    public mutating func write(_ field: UInt32, _ value: UInt64) { bytes.appendVarintField(field, value) }
    public mutating func write(_ field: UInt32, _ value: UInt32) { bytes.appendVarintField(field, UInt64(value)) }
    public mutating func write(_ field: UInt32, _ value: UInt16) { bytes.appendVarintField(field, UInt64(value)) }
    public mutating func write(_ field: UInt32, _ value: UInt8) { bytes.appendVarintField(field, UInt64(value)) }
    public mutating func write(_ field: UInt32, _ value: Int64) { bytes.appendVarintField(field, Varint.zigzag(value)) }
    public mutating func write(_ field: UInt32, _ value: Int32) { bytes.appendVarintField(field, Varint.zigzag(Int64(value))) }
    public mutating func write(_ field: UInt32, _ value: Int) { bytes.appendVarintField(field, Varint.zigzag(Int64(value))) }
    public mutating func write(_ field: UInt32, _ value: Bool) { bytes.appendVarintField(field, value ? 1 : 0) }
    public mutating func write(_ field: UInt32, _ value: Double) { bytes.appendFixed64Field(field, value.bitPattern) }
    public mutating func write(_ field: UInt32, _ value: Float) { bytes.appendFixed32Field(field, value.bitPattern) }
    public mutating func write(_ field: UInt32, _ value: String) { bytes.appendStringField(field, value) }
    public mutating func write(_ field: UInt32, _ value: [UInt8]) { value.withUnsafeBytes { bytes.appendBytesField(field, $0) } }
    public mutating func write(_ field: UInt32, _ value: UUID) { bytes.appendUUIDField(field, value) }
    public mutating func write(_ field: UInt32, _ value: Date) throws(WireEncodingError) { try bytes.appendDateField(field, value) }

    /// Identifiers are their raw value on the wire, as through Codable.
    @inlinable public mutating func write<I: Identifier>(_ field: UInt32, _ id: I) where I.RawValue == String { write(field, id.rawValue) }
    @inlinable public mutating func write<I: Identifier>(_ field: UInt32, _ id: I) where I.RawValue == UInt64 { write(field, id.rawValue) }
    @inlinable public mutating func write<I: Identifier>(_ field: UInt32, _ id: I) where I.RawValue == UInt32 { write(field, id.rawValue) }

    /// A nested message as field `field`; `body` writes its fields.
    public mutating func writeMessage(_ field: UInt32, _ body: (inout WireFieldWriter) throws(WireEncodingError) -> Void) throws(WireEncodingError) {
        let placeholder = bytes.appendMessageStart(field)
        try body(&self)
        bytes.patchLength(placeholder: placeholder)
    }

    /// A nested `WireMessage` as field `field`.
    public mutating func write<M: WireMessage>(_ field: UInt32, message: M) throws(WireEncodingError) {
        let placeholder = bytes.appendMessageStart(field)
        try message.encode(to: &self)
        bytes.patchLength(placeholder: placeholder)
    }

    /// Any `Encodable` value as field `field`, through the generic path (the same bytes a
    /// Codable message would write for it).
    public mutating func write<T: Encodable>(_ field: UInt32, encodable value: T) throws(WireEncodingError) {
        let writer = WireWriter(bytes: bytes)
        bytes = []
        defer { bytes = writer.bytes }
        do {
            try writer.encodeValue(value, field: field, level: 1, position: .field)
            writer.closeMessages(ownedAtOrBelow: 0)
        } catch {
            throw BinaryEncoder.wireError(error)
        }
        if let deferred = writer.deferredError { throw deferred }
    }
}
