import CartTLS
import CartWire
import NIOCore

/// Answer to one low-level call, on the connection's event loop: the caller's `tag` and the
/// response payload or the error.
public typealias RPCResponseCallback = (_ tag: UInt64, _ result: Result<ByteBuffer, RPCError>) -> Void

/// The client side of one connection, above the frame codec: sends the hello, matches
/// answers to calls by stream id (they may arrive in any order), enforces call timeouts,
/// grants stream credit, answers pings and probes a silent server, and honours go-away.
final class ClientConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = Frame

    enum Phase {
        case awaitingHelloAck
        case open
        /// The server sent go-away: calls in progress finish, new calls go elsewhere.
        case goingAway
        case closed
    }

    enum PendingCall {
        case unary(tag: UInt64, onResponse: RPCResponseCallback, timer: Scheduled<Void>?)
        case stream(ClientStreamState)
    }

    private let hello: Hello
    private let ready: EventLoopPromise<HelloAck>
    private let usable: ConnectionUsability
    private(set) var phase = Phase.awaitingHelloAck
    private(set) var helloAck: HelloAck?
    private var pending: [StreamID: PendingCall] = [:]
    private var nextStreamID: UInt32 = 1
    private var keepalive = KeepaliveClock()
    private var tickTask: RepeatedTask?
    private var isReading = false
    private var needsFlush = false
    private var lastTLSError: TLSError?
    private var context: ChannelHandlerContext?
    private var loopBound: NIOLoopBound<ClientConnectionHandler>?

    init(hello: Hello, ready: EventLoopPromise<HelloAck>, usable: ConnectionUsability) {
        self.hello = hello
        self.ready = ready
        self.usable = usable
    }

    var inflightCount: Int { pending.count }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        if context.channel.isActive { sendHello() }
    }

    func channelActive(context: ChannelHandlerContext) {
        sendHello()
        context.fireChannelActive()
    }

    private func sendHello() {
        var payload = ByteBuffer()
        try? hello.encodeRPC(into: &payload)
        write(Frame(.hello, stream: .connection, payload: payload))
    }

    func channelInactive(context: ChannelHandlerContext) {
        let reason = lastTLSError.map { "the connection closed: \($0)" } ?? "the connection closed"
        shutDown(RPCError(.unavailable, reason))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        loopBound = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let tls = error as? TLSError { lastTLSError = tls }
        context.close(promise: nil)
    }

    /// Fails every call and the connect (if it had not finished) with `error`.
    private func shutDown(_ error: RPCError) {
        guard phase != .closed else { return }
        phase = .closed
        usable.markUnusable()
        tickTask?.cancel()
        ready.fail(error)
        let calls = pending
        pending.removeAll()
        for (_, call) in calls { fail(call, error) }
    }

    private func fail(_ call: PendingCall, _ error: RPCError) {
        switch call {
        case .unary(let tag, let onResponse, let timer):
            timer?.cancel()
            onResponse(tag, .failure(error))
        case .stream(let stream):
            stream.finish(.failure(error))
        }
    }

    // MARK: Calls

    /// Starts a unary call; the answer (or error) comes to `onResponse` on the event loop.
    /// Returns the call's stream id, or nil if it failed at once (`onResponse` has been called).
    @discardableResult
    func startUnary(_ method: MethodID, payload: ByteBuffer, timeoutMs: Int64?, tag: UInt64,
                    onResponse: @escaping RPCResponseCallback) -> StreamID? {
        let stream: StreamID
        switch openStream(payloadBytes: payload.readableBytes, timeoutMs: timeoutMs) {
        case .failure(let error):
            onResponse(tag, .failure(error))
            return nil
        case .success(let id):
            stream = id
        }
        var timer: Scheduled<Void>?
        if let timeoutMs, let bound = loopBound {
            timer = bound.eventLoop.scheduleTask(in: .milliseconds(timeoutMs)) { bound.value.timedOut(stream) }
        }
        pending[stream] = .unary(tag: tag, onResponse: onResponse, timer: timer)
        write(Frame(.request, stream: stream, method: method, deadlineMs: timeoutMs.map { UInt64($0) }, payload: payload))
        return stream
    }

    /// Starts a server stream delivering into `state`.
    func startStream(_ method: MethodID, payload: ByteBuffer, timeoutMs: Int64?, state: ClientStreamState) {
        switch openStream(payloadBytes: payload.readableBytes, timeoutMs: timeoutMs) {
        case .failure(let error):
            state.finish(.failure(error))
        case .success(let stream):
            state.streamID = stream
            state.creditOutstanding = helloAck?.streamCreditInitial ?? 0
            if let timeoutMs, let bound = loopBound {
                state.timer = bound.eventLoop.scheduleTask(in: .milliseconds(timeoutMs)) { bound.value.timedOut(stream) }
            }
            pending[stream] = .stream(state)
            write(Frame(.request, stream: stream, method: method, deadlineMs: timeoutMs.map { UInt64($0) }, payload: payload))
        }
    }

    private func openStream(payloadBytes: Int, timeoutMs: Int64?) -> Result<StreamID, RPCError> {
        guard phase == .open, let ack = helloAck else {
            return .failure(RPCError(.unavailable, "the connection is not open"))
        }
        guard pending.count < Int(ack.streamsConcurrentMax) else {
            return .failure(RPCError(.resourceExhausted, "\(ack.streamsConcurrentMax) calls already in progress on this connection"))
        }
        let frameBytes = payloadBytes + FrameHeader.fixedBytes + FrameHeader.deadlineBytes
        guard frameBytes <= Int(ack.frameBytesMax) else {
            return .failure(RPCError(.frameTooLarge, "request of \(payloadBytes) bytes exceeds the server's frameBytesMax \(ack.frameBytesMax)"))
        }
        if let timeoutMs, timeoutMs <= 0 {
            return .failure(RPCError(.deadlineExceeded, "the timeout is not positive"))
        }
        let stream = StreamID(nextStreamID)
        nextStreamID += 1
        if nextStreamID == UInt32.max {  // ids are never reused: a new connection takes over
            phase = .goingAway
            usable.markUnusable()
        }
        return .success(stream)
    }

    /// Abandons a call: fails it with `cancelled` and tells the server to stop its work.
    func cancel(_ stream: StreamID) {
        guard let call = pending.removeValue(forKey: stream) else { return }
        fail(call, RPCError(.cancelled, "the call was cancelled"))
        sendCancel(stream)
    }

    func timedOut(_ stream: StreamID) {
        guard let call = pending.removeValue(forKey: stream) else { return }
        fail(call, RPCError(.deadlineExceeded, "no answer within the call's timeout"))
        sendCancel(stream)
    }

    private func sendCancel(_ stream: StreamID) {
        guard phase == .open || phase == .goingAway else { return }
        write(Frame(.cancel, stream: stream))
        closeIfDone()
    }

    /// Lets the server send `count` more items on `stream`.
    func grantCredit(_ count: UInt32, stream: StreamID) {
        guard case .stream(let state)? = pending[stream] else { return }
        state.creditOutstanding += count
        var payload = ByteBuffer()
        try? Credit(count: count).encodeRPC(into: &payload)
        write(Frame(.credit, stream: stream, payload: payload))
    }

    func close() {
        context?.close(promise: nil)
    }

    // MARK: Writing

    private func write(_ frame: Frame) {
        guard let context else { return }
        context.write(Self.wrapOutboundOut(frame), promise: nil)
        if isReading {
            needsFlush = true
        } else {
            context.flush()
        }
    }
}

// MARK: Reading

extension ClientConnectionHandler {
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        isReading = true
        keepalive.trafficSeen()
        switch frame.type {
        case .response: handleResponse(frame)
        case .error: handleError(frame)
        case .streamItem: handleStreamItem(frame)
        case .streamEnd: handleStreamEnd(frame)
        case .helloAck: handleHelloAck(frame)
        case .goAway: handleGoAway(frame)
        case .ping: write(Frame(.pong, stream: .connection, payload: frame.payload))
        case .pong: break
        case .hello, .request, .cancel, .credit:
            violation("a server may not send \(frame.type) frames")
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        isReading = false
        if needsFlush {
            needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    private func violation(_ message: String) {
        shutDown(RPCError(.protocolViolation, message))
        context?.close(promise: nil)
    }

    private func handleHelloAck(_ frame: Frame) {
        guard phase == .awaitingHelloAck else { return violation("a second hello-ack") }
        guard let ack = try? HelloAck.decodeRPC(from: frame.payload),
              WireProtocol.versionsSupported.contains(ack.version) else {
            return violation("a hello-ack that cannot be read or names an unknown version")
        }
        helloAck = ack
        phase = .open
        startTicking(intervalMs: Int64(clamping: ack.keepaliveIntervalMs))
        ready.succeed(ack)
    }

    private func handleResponse(_ frame: Frame) {
        guard case .unary(let tag, let onResponse, let timer)? = pending.removeValue(forKey: frame.streamID) else {
            return  // cancelled or timed out meanwhile: the answer is no longer wanted
        }
        timer?.cancel()
        onResponse(tag, .success(frame.payload))
        closeIfDone()
    }

    private func handleError(_ frame: Frame) {
        let error = (try? ErrorPayload.decodeRPC(from: frame.payload)).map(RPCError.init)
            ?? RPCError(.malformedFrame, "the server sent an error frame that cannot be read")
        if frame.streamID.isConnection {
            shutDown(error)
            context?.close(promise: nil)
            return
        }
        guard let call = pending.removeValue(forKey: frame.streamID) else { return }
        fail(call, error)
        closeIfDone()
    }

    private func handleStreamItem(_ frame: Frame) {
        guard case .stream(let state)? = pending[frame.streamID] else { return }
        guard state.creditOutstanding > 0 else {
            pending[frame.streamID] = nil
            state.finish(.failure(RPCError(.protocolViolation, "the server sent a stream item without credit")))
            sendCancel(frame.streamID)
            return
        }
        state.creditOutstanding -= 1
        state.deliver(frame.payload)
    }

    private func handleStreamEnd(_ frame: Frame) {
        guard case .stream(let state)? = pending.removeValue(forKey: frame.streamID) else { return }
        state.finish(.success(()))
        closeIfDone()
    }

    private func handleGoAway(_ frame: Frame) {
        let goAway = try? GoAway.decodeRPC(from: frame.payload)
        if phase == .open { phase = .goingAway }
        usable.markUnusable()
        let last = goAway?.lastAcceptedStreamID ?? StreamID(UInt32.max)
        let refused = pending.keys.filter { $0 > last }
        let error = RPCError(.unavailable, "the server is going away: \(goAway?.reason ?? "no reason given")", retryAfterMs: 0)
        for stream in refused {
            if let call = pending.removeValue(forKey: stream) { fail(call, error) }
        }
        closeIfDone()
    }

    /// After go-away, the connection closes once its last call has ended.
    private func closeIfDone() {
        if phase == .goingAway && pending.isEmpty {
            context?.close(promise: nil)
        }
    }

    // MARK: Keepalive

    private func startTicking(intervalMs: Int64) {
        guard let bound = loopBound, intervalMs > 0 else { return }
        let interval = TimeAmount.milliseconds(intervalMs)
        tickTask = bound.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            bound.value.tick()
        }
    }

    private func tick() {
        switch keepalive.tick() {
        case .none:
            break
        case .sendPing:
            var payload = ByteBuffer()
            try? Ping(nonce: UInt64(keepalive.silentIntervals)).encodeRPC(into: &payload)
            write(Frame(.ping, stream: .connection, payload: payload))
        case .peerDead:
            shutDown(RPCError(.unavailable, "the server did not answer keepalive pings"))
            context?.close(promise: nil)
        }
    }
}
