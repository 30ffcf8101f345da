import CartTLS
import NIOCore

/// Starts a client's workload once the connection is usable: at channelActive for plain TCP,
/// at the end of the handshake for TLS, so handshake time never counts as transfer time.
protocol StartsWhenReady: ChannelInboundHandler {
    var waitsForHandshake: Bool { get }
    func start(context: ChannelHandlerContext)
}

extension StartsWhenReady {
    func startIfReady(context: ChannelHandlerContext, event: Any?) {
        if waitsForHandshake == (event is TLSHandshakeCompleted) {
            start(context: context)
        }
    }
}

/// Server side of the bulk run: counts bytes and answers one byte once all have arrived.
final class BulkSink: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private let expectedBytes: Int
    private var receivedBytes = 0

    init(expectedBytes: Int) { self.expectedBytes = expectedBytes }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        receivedBytes += unwrapInboundIn(data).readableBytes
        if receivedBytes == expectedBytes {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(integer: UInt8(1))), promise: nil)
        }
    }
}

/// Client side of the bulk run: writes `totalBytes` in fixed chunks while the channel is
/// writable, and reports the elapsed time when the sink acknowledges the last byte.
final class BulkSource: StartsWhenReady {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let waitsForHandshake: Bool
    private let chunk: ByteBuffer
    private var remainingBytes: Int
    private var started: NIODeadline?
    private let done: EventLoopPromise<TimeAmount>

    init(totalBytes: Int, chunkBytes: Int, waitsForHandshake: Bool, done: EventLoopPromise<TimeAmount>) {
        self.chunk = ByteBuffer(repeating: 0x5A, count: chunkBytes)
        self.remainingBytes = totalBytes
        self.waitsForHandshake = waitsForHandshake
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        startIfReady(context: context, event: nil)
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        startIfReady(context: context, event: event)
        context.fireUserInboundEventTriggered(event)
    }

    func start(context: ChannelHandlerContext) {
        started = .now()
        sendWhileWritable(context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        sendWhileWritable(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let started { done.succeed(.now() - started) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        done.fail(error)
        context.close(promise: nil)
    }

    private func sendWhileWritable(context: ChannelHandlerContext) {
        guard started != nil, remainingBytes > 0 else { return }
        while context.channel.isWritable && remainingBytes > 0 {
            // Account before writing: the write can re-enter this method through
            // channelWritabilityChanged, and the nested call must see the updated count.
            let bytes = min(remainingBytes, chunk.readableBytes)
            remainingBytes -= bytes
            context.write(wrapOutboundOut(chunk.getSlice(at: chunk.readerIndex, length: bytes)!), promise: nil)
        }
        context.flush()
    }
}

/// Server side of ping-pong: sends back whatever arrives.
final class Echo: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
}

/// Client side of ping-pong: one message in flight; the next leaves when the echo is complete.
final class PingPong: StartsWhenReady {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let waitsForHandshake: Bool
    private let message: ByteBuffer
    private var remainingRoundTrips: Int
    private var pendingEchoBytes = 0
    private var started: NIODeadline?
    private let done: EventLoopPromise<TimeAmount>

    init(roundTrips: Int, messageBytes: Int, waitsForHandshake: Bool, done: EventLoopPromise<TimeAmount>) {
        self.message = ByteBuffer(repeating: 0x42, count: messageBytes)
        self.remainingRoundTrips = roundTrips
        self.waitsForHandshake = waitsForHandshake
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        startIfReady(context: context, event: nil)
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        startIfReady(context: context, event: event)
        context.fireUserInboundEventTriggered(event)
    }

    func start(context: ChannelHandlerContext) {
        started = .now()
        sendPing(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        pendingEchoBytes -= unwrapInboundIn(data).readableBytes
        guard pendingEchoBytes == 0 else { return }
        remainingRoundTrips -= 1
        if remainingRoundTrips == 0, let started {
            done.succeed(.now() - started)
        } else {
            sendPing(context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        done.fail(error)
        context.close(promise: nil)
    }

    private func sendPing(context: ChannelHandlerContext) {
        pendingEchoBytes = message.readableBytes
        context.writeAndFlush(wrapOutboundOut(message), promise: nil)
    }
}

/// Completes when the TLS handshake finishes (or fails).
final class HandshakeWaiter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let done: EventLoopPromise<Void>

    init(done: EventLoopPromise<Void>) { self.done = done }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is TLSHandshakeCompleted { done.succeed() }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        done.fail(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.fail(ChannelError.eof)
        context.fireChannelInactive()
    }
}
