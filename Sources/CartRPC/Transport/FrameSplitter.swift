import CartWire
import NIOCore

/// Inbound: cuts the byte stream at frame boundaries and passes each whole frame (length
/// prefix included) on as a `ByteBuffer` slice, without copying; the connection handler
/// parses it with `FrameCodec.decode`. The length prefix is checked against `frameBytesMax`
/// as soon as it arrives, before any of the frame is buffered.
///
/// Why slices rather than `Frame` values: a pipeline message larger than three words is
/// boxed on the heap by `NIOAny`, one allocation per frame each way; a `ByteBuffer` is not.
struct FrameSplitter: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    let limits: FrameLimits

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length: UInt32 = buffer.getInteger(at: buffer.readerIndex) else { return .needMoreData }
        let frameBytes = Int(length)
        guard frameBytes <= limits.frameBytesMax else {
            throw FrameError(.frameTooLarge, "frame of \(frameBytes) bytes exceeds frameBytesMax \(limits.frameBytesMax)")
        }
        guard let frame = buffer.readSlice(length: FrameCodec.lengthPrefixBytes + frameBytes) else { return .needMoreData }
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
