import CartTLS
import NIOCore
import NIOPosix
import Foundation
import XCTest

/// What one side of a test connection observed, shared between event loop threads and the
/// test thread. The first event of each kind wins. (Plain locking rather than promises: a
/// promise left unfulfilled when its event loop shuts down trips NIO's leak check.)
final class ProbeSignals: @unchecked Sendable {
    private let condition = NSCondition()
    private var handshakeResult: Result<TLSHandshakeCompleted, any Error>?
    private var firstErrorSeen: (any Error)?
    private var isInactive = false

    init() {}

    func recordHandshake(_ result: Result<TLSHandshakeCompleted, any Error>) {
        condition.withLock {
            if handshakeResult == nil { handshakeResult = result }
            condition.broadcast()
        }
    }

    func recordError(_ error: any Error) {
        condition.withLock {
            if firstErrorSeen == nil { firstErrorSeen = error }
            condition.broadcast()
        }
    }

    func recordInactive() {
        condition.withLock {
            if handshakeResult == nil { handshakeResult = .failure(ConnectionClosedBeforeHandshake()) }
            isInactive = true
            condition.broadcast()
        }
    }

    /// The completed handshake; throws if the connection closed first or nothing happened in time.
    func handshake(within seconds: Double = 20) throws -> TLSHandshakeCompleted {
        try waitFor(seconds) { self.handshakeResult }.get()
    }

    /// The first error fired on the channel, or `nil` if it closed without one.
    func firstError(within seconds: Double = 20) throws -> (any Error)? {
        try waitFor(seconds) { self.firstErrorSeen.map { .some($0) } ?? (self.isInactive ? .some(nil) : nil) }
    }

    /// The first error fired so far, without waiting.
    var errorSoFar: (any Error)? {
        condition.withLock { firstErrorSeen }
    }

    func inactive(within seconds: Double = 20) throws {
        try waitFor(seconds) { self.isInactive ? () : nil }
    }

    private func waitFor<T>(_ seconds: Double, _ value: () -> T?) throws -> T {
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let value = value() { return value }
            guard condition.wait(until: deadline) else { throw WaitTimedOut() }
        }
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
            signals.recordHandshake(.success(completed))
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        signals.recordError(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        signals.recordInactive()
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
