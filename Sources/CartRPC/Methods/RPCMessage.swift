import CartWire
import NIOCore

/// A value that can travel as the payload of a request, response or stream item.
///
/// `Codable` types get the binary encoding of CartWire by declaring conformance
/// (`extension AddItem: RPCMessage {}`); `ByteBuffer` travels as raw bytes, without a copy,
/// which is what the echo built-in and byte-oriented benchmarks use.
public protocol RPCMessage: Sendable {
    /// Appends the encoding of `self` to `buffer`.
    func encodeRPC(into buffer: inout ByteBuffer) throws(RPCError)
    /// Decodes a value from exactly the readable bytes of `buffer`.
    static func decodeRPC(from buffer: ByteBuffer) throws(RPCError) -> Self
}

extension RPCMessage where Self: Codable {
    public func encodeRPC(into buffer: inout ByteBuffer) throws(RPCError) {
        do {
            try BinaryEncoder().encode(self, into: &buffer)
        } catch {
            throw RPCError(.internal, "cannot encode \(Self.self): \(error)")
        }
    }

    public static func decodeRPC(from buffer: ByteBuffer) throws(RPCError) -> Self {
        do {
            return try BinaryDecoder().decode(Self.self, from: buffer)
        } catch {
            throw RPCError(.invalidArgument, "cannot decode \(Self.self): \(error)")
        }
    }
}

extension ByteBuffer: RPCMessage {
    public func encodeRPC(into buffer: inout ByteBuffer) throws(RPCError) {
        var copy = self
        buffer.writeBuffer(&copy)
    }

    public static func decodeRPC(from buffer: ByteBuffer) throws(RPCError) -> ByteBuffer {
        buffer
    }
}

extension RPCMessage {
    /// `self` as a buffer of its own. A `ByteBuffer` is returned as is (no copy).
    func encodedRPC(allocator: ByteBufferAllocator) throws(RPCError) -> ByteBuffer {
        if let bytes = self as? ByteBuffer { return bytes }
        var buffer = allocator.buffer(capacity: 64)
        try encodeRPC(into: &buffer)
        return buffer
    }
}

extension Ping: RPCMessage {}
extension GoAway: RPCMessage {}
extension Hello: RPCMessage {}
extension HelloAck: RPCMessage {}
extension ErrorPayload: RPCMessage {}
extension Credit: RPCMessage {}
extension Cancel: RPCMessage {}
extension StreamEnd: RPCMessage {}

extension RPCMessage where Self: WireMessage {
    /// Types with hand-written wire fields take CartWire's fast path (same bytes as Codable).
    public func encodeRPC(into buffer: inout ByteBuffer) throws(RPCError) {
        do {
            let bytes = try BinaryEncoder().encode(self)
            buffer.reserveCapacity(minimumWritableBytes: bytes.count)
            buffer.writeBytes(bytes)
        } catch {
            throw RPCError(.internal, "cannot encode \(Self.self): \(error)")
        }
    }

    public static func decodeRPC(from buffer: ByteBuffer) throws(RPCError) -> Self {
        let result: Result<Self, WireEncodingError> = buffer.withUnsafeReadableBytes { raw in
            Result { () throws(WireEncodingError) in try BinaryDecoder().decode(Self.self, from: raw) }
        }
        do {
            return try result.get()
        } catch {
            throw RPCError(.invalidArgument, "cannot decode \(Self.self): \(error)")
        }
    }
}
