import CartTLS
import CartWire
import NIOCore

/// Answer to one low-level call, on the connection's event loop: the caller's `tag` and the
/// response payload or the error.
public typealias RPCResponseCallback = (_ tag: UInt64, _ result: Result<ByteBuffer, RPCError>) -> Void

/// The client side of one connection, above the frame codec: sends the hello, matches
/// answers to calls by stream id (they may arrive in any order), enforces call timeouts,
/// grants stream credit, answers pings and probes a silent server, and honours go-away.
final class ClientConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Phase {
        case awaitingHelloAck
        case open
        /// The server sent go-away, or a close started: calls in progress finish, new calls
        /// go elsewhere.
        case goingAway
        case closed
    }

    enum PendingCall {
        case unary(tag: UInt64, onResponse: RPCResponseCallback, deadline: NIODeadline?)
        case stream(ClientStreamState)
    }

    let hello: Hello
    let ready: EventLoopPromise<HelloAck>
    let usable: ConnectionUsability
    var phase = Phase.awaitingHelloAck
    var helloAck: HelloAck?
    var pending: [StreamID: PendingCall] = [:]
    var nextStreamID: UInt32 = 1
    var keepalive = KeepaliveClock()
    var tickTask: RepeatedTask?
    /// The stall watch (`RPCClientConfiguration.stallProbeIntervalMs`): its own silence count,
    /// and its timer, armed only while calls are open.
    let stallProbeIntervalMs: Int64?
    var stallClock = KeepaliveClock(deadAfter: 2)
    var stallTimer: Scheduled<Void>?
    /// The one timer of the unary calls' deadlines, armed for the earliest (see `armDeadlineTimer`).
    var deadlineTimer: Scheduled<Void>?
    var deadlineTimerAt: NIODeadline?
    var isReading = false
    var needsFlush = false
    /// A flush is queued on the loop: frames written outside a read wait for it, so every
    /// answer completed in one loop turn shares one TLS record and one socket write.
    var flushQueued = false
    var lastTLSError: TLSError?
    var batch: FrameBatch
    var context: ChannelHandlerContext?
    var loopBound: NIOLoopBound<ClientConnectionHandler>?

    /// The endpoint's health, shared by the client's connections.
    let health: EndpointHealth

    init(hello: Hello, ready: EventLoopPromise<HelloAck>, usable: ConnectionUsability, limits: FrameLimits,
         stallProbeIntervalMs: Int64?, health: EndpointHealth) {
        self.batch = FrameBatch(limits: limits)
        self.stallProbeIntervalMs = stallProbeIntervalMs
        self.health = health
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

    func sendHello() {
        var payload = ByteBuffer()
        try? hello.encodeRPC(into: &payload)
        write(Frame(.hello, stream: .connection, payload: payload))
    }

    func channelInactive(context: ChannelHandlerContext) {
        // Closed while open, with no go-away and no close of ours: the server went without a
        // word (its process died, or its machine or the network failed).
        if phase == .open { health.markUnreachable() }
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
        if phase == .open { health.markUnreachable() }  // a reset, or a broken stream: as above
        stopTakingCalls()
        context.close(promise: nil)
    }

    /// A close from the application (`RPCConnection.close`, a pool retiring the connection).
    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        flush()  // frames queued for the end of this turn (requests, cancels) go out first
        stopTakingCalls()
        context.close(mode: mode, promise: promise)
    }

    /// Closing a TLS connection waits for the server's close_notify (up to the TLS
    /// configuration's `closeNotifyTimeoutMs`), and the channel stays active meanwhile. From the
    /// moment a close starts the connection takes no new calls, so a caller picks another
    /// connection at once instead of starting a call that can only fail when the close ends.
    /// Calls in progress end with the connection, as before.
    func stopTakingCalls() {
        if phase == .open { phase = .goingAway }
        usable.markUnusable()
    }

    /// Fails every call and the connect (if it had not finished) with `error`.
    func shutDown(_ error: RPCError) {
        guard phase != .closed else { return }
        phase = .closed
        usable.markUnusable()
        tickTask?.cancel()
        deadlineTimer?.cancel()
        stallTimer?.cancel()
        ready.fail(error)
        let calls = pending
        pending.removeAll()
        for (_, call) in calls { fail(call, error) }
    }

    func fail(_ call: PendingCall, _ error: RPCError) {
        switch call {
        case .unary(let tag, let onResponse, _):
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
        let deadline = timeoutMs.map { NIODeadline.now() + .milliseconds($0) }
        pending[stream] = .unary(tag: tag, onResponse: onResponse, deadline: deadline)
        if let deadline { armDeadlineTimer(for: deadline) }
        watchForStall()
        write(Frame(.request, stream: stream, method: method, deadlineMs: timeoutMs.map { UInt64($0) }, payload: payload))
        return stream
    }

    /// Sends a request that the server runs without answering (`FrameFlags.noReply`). Nothing
    /// is remembered about it: the caller learns nothing of its fate, so use it only for
    /// messages whose loss it tolerates. Throws if the connection cannot take it now.
    func sendOneWay(_ method: MethodID, payload: ByteBuffer) throws(RPCError) {
        switch openStream(payloadBytes: payload.readableBytes, timeoutMs: nil) {
        case .failure(let error):
            throw error
        case .success(let stream):
            write(Frame(.request, stream: stream, method: method, noReply: true, payload: payload))
        }
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
            watchForStall()
            write(Frame(.request, stream: stream, method: method, deadlineMs: timeoutMs.map { UInt64($0) }, payload: payload))
        }
    }

    func openStream(payloadBytes: Int, timeoutMs: Int64?) -> Result<StreamID, RPCError> {
        guard phase == .open, let ack = helloAck else {
            return .failure(RPCError(.unavailable, "the connection is not open"))
        }
        guard pending.count < Int(ack.streamsConcurrentMax) else {
            return .failure(RPCError(.resourceExhausted, "\(ack.streamsConcurrentMax) calls already in progress on this connection"))
        }
        // The frame must fit both the server's limit and this client's own (which `write`
        // enforces by not sending): checked here, so the call fails now instead of at its deadline.
        let frameBytes = payloadBytes + FrameHeader.fixedBytes + FrameHeader.deadlineBytes
        guard frameBytes <= Int(ack.frameBytesMax) else {
            return .failure(RPCError(.frameTooLarge, "request of \(payloadBytes) bytes exceeds the server's frameBytesMax \(ack.frameBytesMax)"))
        }
        guard frameBytes <= batch.limits.frameBytesMax else {
            return .failure(RPCError(.frameTooLarge, "request of \(payloadBytes) bytes exceeds this client's frameBytesMax \(batch.limits.frameBytesMax)"))
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

    func sendCancel(_ stream: StreamID) {
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
        flush()  // frames queued for the end of this turn go out first
        stopTakingCalls()
        context?.close(promise: nil)
    }

    // MARK: Writing

    /// Queues `frame`; flushed at the end of the read batch, or of the loop turn outside a read.
    func write(_ frame: Frame) {
        guard let context else { return }
        do {
            try batch.append(frame, allocator: context.channel.allocator)
        } catch {
            return  // callers check sizes first; a frame breaking the rules is not sent
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
}
