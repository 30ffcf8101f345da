import NIOCore

/// Inbound: bytes → `Frame`. Put it in a pipeline as `ByteToMessageHandler(FrameDecoder())`.
/// A malformed or oversized frame is fired as a `FrameError` (the connection cannot recover,
/// so the RPC layer answers with an error frame and closes).
public struct FrameDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = Frame

    public let limits: FrameLimits

    public init(limits: FrameLimits = .default) {
        self.limits = limits
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try FrameCodec.decode(from: &buffer, limits: limits) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer,
                                    seenEOF: Bool) throws -> DecodingState {
        if try decode(context: context, buffer: &buffer) == .continue { return .continue }
        if seenEOF && buffer.readableBytes > 0 {
            let leftover = buffer.readableBytes
            buffer.moveReaderIndex(forwardBy: leftover)
            throw FrameError(.truncated, "connection closed \(leftover) bytes into a frame")
        }
        return .needMoreData
    }
}

/// Outbound: `Frame` → bytes. Put it in a pipeline as `MessageToByteHandler(FrameEncoder())`.
public struct FrameEncoder: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = Frame

    public let limits: FrameLimits

    public init(limits: FrameLimits = .default) {
        self.limits = limits
    }

    public func encode(data: Frame, out: inout ByteBuffer) throws {
        try FrameCodec.encode(data, into: &out, limits: limits)
    }
}
