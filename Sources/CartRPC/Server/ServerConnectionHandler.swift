import CartTLS
import CartWire
import Logging
import NIOCore

/// The server side of one connection, above the frame codec: hello and authentication,
/// dispatch by method id, the calls in progress with their deadlines and cancellation,
/// stream credit, keepalive, idle timeout and drain.
///
/// Answers written while reading are flushed once per read batch (`channelReadComplete`);
/// answers that arrive later (futures, tasks) are flushed once at the end of the loop turn.
final class ServerConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Phase {
        case awaitingHello
        case open
        /// Go-away sent: calls in progress finish, new ones get `unavailable`.
        case draining
        case closing
    }

    let registry: HandlerRegistry
    let configuration: RPCServerConfiguration
    let logger: Logger
    /// Accepted beyond `connectionsMax`: the hello is answered with `resourceExhausted`.
    let isOverLimit: Bool

    var phase = Phase.awaitingHello
    /// Set when the hello is accepted.
    var connectionInfo: ConnectionInfo?
    var tlsPeer: PeerIdentity?
    var calls: [StreamID: ServerCall] = [:]
    var highestStreamID = StreamID.connection
    /// Whether a refused one-way request was logged (once per connection: its sender hears
    /// nothing of it).
    var quietRefusalLogged = false
    var keepalive = KeepaliveClock()
    var idleMs: Int64 = 0
    var requestSinceTick = false
    var pingNonce: UInt64 = 0
    var handshakeTimer: Scheduled<Void>?
    /// Fires when the principal's credentials expire (`RPCPrincipal.validForMs`).
    var credentialsTimer: Scheduled<Void>?
    var tickTask: RepeatedTask?
    var isReading = false
    var needsFlush = false
    /// A flush is queued on the loop: frames written outside a read wait for it, so every
    /// answer completed in one loop turn shares one TLS record and one socket write.
    var flushQueued = false
    var batch: FrameBatch
    var context: ChannelHandlerContext?
    var loopBound: NIOLoopBound<ServerConnectionHandler>?

    init(registry: HandlerRegistry, configuration: RPCServerConfiguration, logger: Logger, isOverLimit: Bool) {
        self.registry = registry
        self.configuration = configuration
        self.logger = logger
        self.isOverLimit = isOverLimit
        self.batch = FrameBatch(limits: FrameLimits(frameBytesMax: configuration.frameBytesMax))
    }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let bound = loopBound!
        handshakeTimer = context.eventLoop.scheduleTask(in: .milliseconds(configuration.handshakeTimeoutMs)) {
            bound.value.handshakeTimedOut()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        phase = .closing
        handshakeTimer?.cancel()
        credentialsTimer?.cancel()
        tickTask?.cancel()
        let lost = RPCError(.cancelled, "the connection closed")
        for call in calls.values { call.stop(lost) }
        calls.removeAll()
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { resumeStreamsHeldByTheConnection() }
        context.fireChannelWritabilityChanged()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        loopBound = nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let completed = event as? TLSHandshakeCompleted {
            tlsPeer = completed.peer
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let frameError = error as? FrameError {
            logger.debug("closing connection after a bad frame", metadata: ["error": "\(frameError)"])
            failConnection(RPCError(frameError.errorCode, frameError.message))
        } else {
            logger.debug("closing connection after an error", metadata: ["error": "\(error)"])
            phase = .closing
            context.close(promise: nil)
        }
    }

    // MARK: Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = Self.unwrapInboundIn(data)
        let frame: Frame
        do {
            guard let decoded = try FrameCodec.decode(from: &bytes, limits: batch.limits) else { return }
            frame = decoded
        } catch {
            failConnection(RPCError(error.errorCode, error.message))
            return
        }
        isReading = true
        keepalive.trafficSeen()
        switch phase {
        case .awaitingHello:
            guard frame.type == .hello else {
                failConnection(RPCError(.protocolViolation, "the first frame must be a hello, not \(frame.type)"))
                return
            }
            handleHello(frame)
        case .open, .draining:
            handleFrame(frame)
        case .closing:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        isReading = false
        if needsFlush {
            needsFlush = false
            flush()
        }
        context.fireChannelReadComplete()
    }

    private func handleFrame(_ frame: Frame) {
        switch frame.type {
        case .request:
            handleRequest(frame)
        case .cancel:
            handleCancel(frame.streamID)
        case .credit:
            handleCredit(frame)
        case .error where !frame.streamID.isConnection:
            handleCancel(frame.streamID)
        case .ping:
            write(Frame(.pong, stream: .connection, payload: frame.payload))
        case .pong, .goAway:
            break  // traffic already counted; a client's go-away needs no answer
        case .error:
            logger.debug("peer reported a connection error", metadata: ["payload": "\(frame.payload.readableBytes) bytes"])
            phase = .closing
            context?.close(promise: nil)
        case .hello, .helloAck, .response, .streamItem, .streamEnd:
            failConnection(RPCError(.protocolViolation, "a client may not send \(frame.type) frames here"))
        }
    }

    // MARK: Writing

    /// Writes `frame`; flushed at the end of the read batch, or of the loop turn outside a read.
    func write(_ frame: Frame) {
        guard let context else { return }
        do {
            try batch.append(frame, allocator: context.channel.allocator)
        } catch {
            logger.error("dropping a frame that breaks the frame rules", metadata: ["error": "\(error)"])
            return
        }
        if isReading {
            needsFlush = true
        } else {
            flushAtEndOfTurn()
        }
    }

    /// Flushes once after the tasks already queued on the loop have run (they are often more
    /// answers to the same connection), instead of once per frame.
    func flushAtEndOfTurn() {
        guard !flushQueued, let bound = loopBound else { return }
        flushQueued = true
        bound.eventLoop.execute {
            let handler = bound.value
            handler.flushQueued = false
            if handler.batch.hasPending { handler.flush() }
        }
    }

    func flush() {
        guard let context else { return }
        if let bytes = batch.take() {
            context.write(Self.wrapOutboundOut(bytes), promise: nil)
        }
        context.flush()
    }

    /// Writes `frame` after everything pending, flushes, and closes once it is written.
    func writeLastAndClose(_ frame: Frame) {
        guard let context else { return }
        try? batch.append(frame, allocator: context.channel.allocator)
        let channel = context.channel
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenComplete { _ in channel.close(promise: nil) }
        context.write(Self.wrapOutboundOut(batch.take() ?? ByteBuffer()), promise: written)
        context.flush()
    }

    func writeError(_ error: RPCError, stream: StreamID) {
        var payload = ByteBuffer()
        try? error.payload.encodeRPC(into: &payload)
        write(Frame(.error, stream: stream, payload: payload))
    }

    /// Sends `error` on stream 0 and closes the connection once it is written.
    func failConnection(_ error: RPCError) {
        guard phase != .closing, context != nil else { return }
        phase = .closing
        handshakeTimer?.cancel()
        var payload = ByteBuffer()
        try? error.payload.encodeRPC(into: &payload)
        writeLastAndClose(Frame(.error, stream: .connection, payload: payload))
    }

    /// Sends a final go-away and closes the connection once it (and everything before it)
    /// is written.
    func closeGracefully(code: ErrorCode, reason: String) {
        guard phase != .closing, context != nil else { return }
        phase = .closing
        handshakeTimer?.cancel()
        var payload = ByteBuffer()
        try? GoAway(lastAcceptedStreamID: highestStreamID, code: code, reason: reason).encodeRPC(into: &payload)
        writeLastAndClose(Frame(.goAway, stream: .connection, payload: payload))
    }
}
