import CartWire
import NIOCore

/// Outbound: `Frame` → bytes, gathering every frame written between two flushes into one
/// buffer, so a batch of answers to one socket read costs one write (and one TLS record)
/// instead of one per frame.
final class FrameBatchEncoder: ChannelOutboundHandler {
    typealias OutboundIn = Frame
    typealias OutboundOut = ByteBuffer

    /// Capacity of a fresh batch buffer; enough for a batch of small answers.
    static let batchBytesInitial = 4096

    private let limits: FrameLimits
    private var batch: ByteBuffer?
    private var batchPromise: EventLoopPromise<Void>?

    init(limits: FrameLimits) {
        self.limits = limits
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let frame = Self.unwrapOutboundIn(data)
        if batch == nil {
            batch = context.channel.allocator.buffer(capacity: max(Self.batchBytesInitial, frame.lengthPrefixValue + 4))
        }
        do {
            try FrameCodec.encode(frame, into: &batch!, limits: limits)
        } catch {
            promise?.fail(error)
            return
        }
        if let promise {
            if let batchPromise {
                batchPromise.futureResult.cascade(to: promise)
            } else {
                batchPromise = promise
            }
        }
    }

    func flush(context: ChannelHandlerContext) {
        if let bytes = batch {
            batch = nil
            let promise = batchPromise
            batchPromise = nil
            context.write(Self.wrapOutboundOut(bytes), promise: promise)
        }
        context.flush()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        batchPromise?.fail(ChannelError.ioOnClosedChannel)
        batchPromise = nil
        batch = nil
    }
}
