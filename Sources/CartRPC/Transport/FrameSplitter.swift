import CartWire
import NIOCore

/// Inbound: cuts the byte stream at frame boundaries and passes each whole frame (length
/// prefix included) on as a `ByteBuffer` slice, without copying; the connection handler
/// parses it with `FrameCodec.decode`. The length prefix is checked against `frameBytesMax`
/// as soon as it arrives, before any of the frame is buffered.
///
/// Why slices rather than `Frame` values: a pipeline message larger than three words is
/// boxed on the heap by `NIOAny`, one allocation per frame each way; a `ByteBuffer` is not.
///
/// An acceptor gives the first frame (the hello, before anyone is authenticated) a lower limit
/// of its own, `firstFrameBytesMax`: a connection that has not said who it is may not make the
/// server buffer a full-size frame.
struct FrameSplitter: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    let limits: FrameLimits
    /// The limit of the next frame while it is the connection's first; nil afterwards.
    private var firstFrameBytesMax: Int?

    init(limits: FrameLimits, firstFrameBytesMax: Int? = nil) {
        self.limits = limits
        self.firstFrameBytesMax = firstFrameBytesMax
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length: UInt32 = buffer.getInteger(at: buffer.readerIndex) else { return .needMoreData }
        let frameBytes = Int(length)
        if let firstFrameBytesMax, frameBytes > firstFrameBytesMax {
            throw FrameError(.frameTooLarge, "a first frame (the hello) of \(frameBytes) bytes exceeds \(firstFrameBytesMax)")
        }
        guard frameBytes <= limits.frameBytesMax else {
            throw FrameError(.frameTooLarge, "frame of \(frameBytes) bytes exceeds frameBytesMax \(limits.frameBytesMax)")
        }
        guard let frame = buffer.readSlice(length: FrameCodec.lengthPrefixBytes + frameBytes) else { return .needMoreData }
        firstFrameBytesMax = nil
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        if try decode(context: context, buffer: &buffer) == .continue { return .continue }
        if seenEOF && buffer.readableBytes > 0 {
            let leftover = buffer.readableBytes
            buffer.moveReaderIndex(forwardBy: leftover)
            throw FrameError(.truncated, "connection closed \(leftover) bytes into a frame")
        }
        return .needMoreData
    }
}
