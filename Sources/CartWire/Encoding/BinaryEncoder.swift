import NIOCore

/// Encodes `Encodable` values in SharedCart's binary format (protobuf-like; see
/// `proto-spec/PROTOCOL.md` §Encoding): fields tagged by integer `CodingKeys`, varint and
/// zigzag integers, length-delimited strings, bytes and nested messages.
///
/// The same value always gives the same bytes: fields appear in the order the type's
/// `encode(to:)` writes them, and sets and dictionaries are sorted by encoded bytes.
///
/// The top-level value is a message body when the value is a message (asks for a keyed
/// container); any other value (a number, a string, an array, an identifier) is encoded as
/// field 1 of an implicit message. A nil optional at the top level encodes as no bytes.
public struct BinaryEncoder: Sendable {
    public init() {}

    /// The encoding of `value` as a new array.
    public func encode<T: Encodable>(_ value: T) throws(WireEncodingError) -> [UInt8] {
        var bytes: [UInt8] = []
        try encode(value, into: &bytes)
        return bytes
    }

    /// Appends the encoding of `value` to `bytes`. Reusing one array across calls avoids
    /// growing a new one each time. On error, `bytes` keeps only what it held before.
    public func encode<T: Encodable>(_ value: T, into bytes: inout [UInt8]) throws(WireEncodingError) {
        let start = bytes.count
        let writer = WireWriter(bytes: bytes)
        bytes = []  // hand the storage to the writer so appends do not copy it
        defer { bytes = writer.bytes }
        do {
            try writer.encodeValue(value, field: 1, level: 0, position: .root)
            writer.closeMessages(ownedAtOrBelow: 0)
        } catch {
            writer.bytes.removeSubrange(start...)
            throw Self.wireError(error)
        }
        if let deferred = writer.deferredError {
            writer.bytes.removeSubrange(start...)
            throw deferred
        }
    }

    /// Appends the encoding of `value` to `buffer`.
    public func encode<T: Encodable>(_ value: T, into buffer: inout ByteBuffer) throws(WireEncodingError) {
        let bytes = try encode(value)
        buffer.writeBytes(bytes)
    }

    /// Errors thrown by a type's own `encode(to:)` (for example `EncodingError`) are reported
    /// as `unsupportedShape` so callers handle one error type.
    static func wireError(_ error: any Error) -> WireEncodingError {
        if let wire = error as? WireEncodingError { return wire }
        return WireEncodingError(.unsupportedShape, "\(error)")
    }
}
