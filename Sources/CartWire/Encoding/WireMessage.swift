/// A message with a hand-written encoding: the fast path for hot messages (cart events,
/// Raft entries). Its bytes must be identical to what its `Codable` conformance produces
/// through `BinaryEncoder`'s generic path; the test vectors encode each such type both
/// ways to prove it. Inside a generic (Codable) message a `WireMessage` is still encoded
/// through Codable, so the two paths can be mixed freely.
///
/// Write fields in the order of the `CodingKeys`, skip nil optionals and empty repeated
/// fields, and on decoding skip unknown fields and throw `missingField` for absent required
/// ones: the same rules the generic path follows.
public protocol WireMessage: Codable {
    func encode(to writer: inout WireFieldWriter) throws(WireEncodingError)
    init(from reader: inout WireFieldReader) throws(WireEncodingError)
    /// About how many bytes `encode(to:)` writes: the capacity reserved up front, so a message
    /// is not copied each time its array grows. Need not be exact.
    var encodedBytesEstimate: Int { get }
}

extension WireMessage {
    public var encodedBytesEstimate: Int { 128 }
}

extension BinaryEncoder {
    /// The fast path: chosen over the generic `encode` whenever the static type is a
    /// `WireMessage`.
    public func encode<T: WireMessage>(_ value: T, into bytes: inout [UInt8]) throws(WireEncodingError) {
        let start = bytes.count
        var fields = WireFieldWriter(bytes: bytes)
        bytes = []  // hand the storage over so appends do not copy it
        do {
            try value.encode(to: &fields)
        } catch {
            fields.bytes.removeSubrange(start...)
            bytes = fields.bytes
            throw error
        }
        bytes = fields.bytes
    }

    public func encode<T: WireMessage>(_ value: T) throws(WireEncodingError) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(value.encodedBytesEstimate)
        try encode(value, into: &bytes)
        return bytes
    }
}

extension BinaryDecoder {
    /// The fast path: chosen over the generic `decode` whenever `T` is a `WireMessage`.
    public func decode<T: WireMessage>(_ type: T.Type, from bytes: UnsafeRawBufferPointer) throws(WireEncodingError) -> T {
        guard bytes.count <= limits.bytesMax, bytes.count <= Int(UInt32.max) else {
            throw WireEncodingError(.bytesExceeded, "input of \(bytes.count) bytes exceeds bytesMax \(limits.bytesMax)")
        }
        // The field readers hold `source` unretained: it must live until this call returns.
        let source = WireReader(input: bytes, limits: limits)
        return try withExtendedLifetime(source) { () throws(WireEncodingError) -> T in
            var reader = try WireFieldReader(reader: Unmanaged.passUnretained(source), start: 0, end: bytes.count, depth: 0)
            return try T(from: &reader)
        }
    }

    public func decode<T: WireMessage>(_ type: T.Type, from bytes: [UInt8]) throws(WireEncodingError) -> T {
        let result: Result<T, WireEncodingError> = bytes.withUnsafeBytes { raw in
            Result { () throws(WireEncodingError) in try decode(type, from: raw) }
        }
        return try result.get()
    }
}
