import CartTLS
import NIOCore
import NIOPosix
import XCTest

/// What one side of a test connection observed. Promises only, so it crosses threads freely;
/// completing an already completed promise is ignored, so the first event of each kind wins.
final class ProbeSignals: Sendable {
    let handshake: EventLoopPromise<TLSHandshakeCompleted>
    /// The first error fired, or `nil` if the channel closed without one.
    let firstError: EventLoopPromise<(any Error)?>
    let inactive: EventLoopPromise<Void>

    init(on loop: EventLoop) {
        handshake = loop.makePromise()
        firstError = loop.makePromise()
        inactive = loop.makePromise()
    }

    deinit {
        // Settle whatever never happened, so NIO's leaked-promise check stays quiet.
        handshake.fail(ConnectionClosedBeforeHandshake())
        firstError.succeed(nil)
        inactive.succeed()
    }
}

struct ConnectionClosedBeforeHandshake: Error {}

/// Records TLS events into `ProbeSignals` and passes everything on.
final class PeerProbe: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private let signals: ProbeSignals

    init(_ signals: ProbeSignals) { self.signals = signals }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let completed = event as? TLSHandshakeCompleted {
            signals.handshake.succeed(completed)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        signals.firstError.succeed(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        signals.handshake.fail(ConnectionClosedBeforeHandshake())
        signals.firstError.succeed(nil)
        signals.inactive.succeed()
        context.fireChannelInactive()
    }
}

/// Echoes every byte back, reading only while the channel can take the echo: the server
/// runs with autoRead off so the handler's read path is exercised under backpressure.
final class BackpressuredEcho: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private var waitingForWritability = false

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is TLSHandshakeCompleted {
            context.read()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        if context.channel.isWritable {
            context.read()
        } else {
            waitingForWritability = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable && waitingForWritability {
            waitingForWritability = false
            context.read()
        }
        context.fireChannelWritabilityChanged()
    }
}

/// Collects plaintext until `expectedBytes` have arrived.
final class Collector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private var received: ByteBuffer
    private let expectedBytes: Int
    private let done: EventLoopPromise<ByteBuffer>

    init(expectedBytes: Int, done: EventLoopPromise<ByteBuffer>) {
        self.expectedBytes = expectedBytes
        self.done = done
        self.received = ByteBufferAllocator().buffer(capacity: expectedBytes)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        received.writeBuffer(&chunk)
        if received.readableBytes >= expectedBytes {
            done.succeed(received)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.succeed(received)
        context.fireChannelInactive()
    }
}

enum Loopback {
    /// A TLS server on 127.0.0.1, port 0. `extraHandlers` builds the handlers after TLS.
    static func startServer(
        group: EventLoopGroup,
        tls: TLSContext,
        signals: ProbeSignals,
        autoRead: Bool = true,
        extraHandlers: @escaping @Sendable () -> [any ChannelHandler] = { [] }
    ) throws -> Channel {
        try ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: autoRead)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(TLSHandler(context: tls, role: .server))
                    try pipeline.addHandler(PeerProbe(signals))
                    try pipeline.addHandlers(extraHandlers())
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
    }

    static func connect(
        group: EventLoopGroup,
        port: Int,
        tls: TLSContext?,
        expectedPeerName: String? = "localhost",
        signals: ProbeSignals,
        extraHandlers: @escaping @Sendable () -> [any ChannelHandler] = { [] }
    ) throws -> Channel {
        try ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls {
                        try pipeline.addHandler(TLSHandler(context: tls, role: .client, expectedPeerName: expectedPeerName))
                    }
                    try pipeline.addHandler(PeerProbe(signals))
                    try pipeline.addHandlers(extraHandlers())
                }
            }
            .connect(host: "127.0.0.1", port: port).wait()
    }
}

struct WaitTimedOut: Error {}

extension EventLoopFuture where Value: Sendable {
    /// `wait()` that gives up after `seconds`, so a broken handler fails the test, not CI.
    func wait(within seconds: Int64) throws -> Value {
        let bounded = eventLoop.makePromise(of: Value.self)
        let timer = eventLoop.scheduleTask(in: .seconds(seconds)) { bounded.fail(WaitTimedOut()) }
        cascade(to: bounded)
        defer { timer.cancel() }
        return try bounded.futureResult.wait()
    }
}

/// Asserts that `error` is a `TLSError` with `code`.
func XCTAssertTLSError(_ error: (any Error)?, _ code: TLSError.Code, file: StaticString = #filePath, line: UInt = #line) {
    guard let tlsError = error as? TLSError else {
        XCTFail("expected TLSError \(code.rawValue), got \(String(describing: error))", file: file, line: line)
        return
    }
    XCTAssertEqual(tlsError.code, code, "\(tlsError)", file: file, line: line)
}
