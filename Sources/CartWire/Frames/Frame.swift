import NIOCore

/// One unit on the wire: a header and an opaque payload. The payload of each frame type is a
/// message from `Envelope/` (or, for requests, responses and stream items, the method's own
/// argument or result type), encoded with `BinaryEncoder`.
public struct Frame: Hashable, Sendable {
    public var header: FrameHeader
    public var payload: ByteBuffer

    public init(header: FrameHeader, payload: ByteBuffer) {
        self.header = header
        self.payload = payload
    }

    public init(_ type: FrameType, stream: StreamID, method: MethodID = .none, deadlineMs: UInt64? = nil,
                noReply: Bool = false, payload: ByteBuffer = ByteBuffer()) {
        self.header = FrameHeader(type: type, streamID: stream, methodID: method, deadlineMs: deadlineMs,
                                  noReply: noReply)
        self.payload = payload
    }

    public var type: FrameType { header.type }
    public var streamID: StreamID { header.streamID }
    public var methodID: MethodID { header.methodID }
    public var deadlineMs: UInt64? { header.deadlineMs }
    public var noReply: Bool { header.noReply }

    /// The value of the length prefix: header plus payload.
    public var lengthPrefixValue: Int { header.encodedBytes + payload.readableBytes }
}
