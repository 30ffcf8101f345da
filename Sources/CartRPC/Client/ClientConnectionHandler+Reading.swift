import CartWire
import NIOCore

/// Frames from the server: answers matched to calls by stream id, stream items against
/// credit, go-away, keepalive.
extension ClientConnectionHandler {
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = Self.unwrapInboundIn(data)
        let frame: Frame
        do {
            guard let decoded = try FrameCodec.decode(from: &bytes, limits: batch.limits) else { return }
            frame = decoded
        } catch {
            return violation("the server sent a bad frame: \(error)")
        }
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
            flush()
        }
        context.fireChannelReadComplete()
    }

    func violation(_ message: String) {
        shutDown(RPCError(.protocolViolation, message))
        context?.close(promise: nil)
    }

    func handleHelloAck(_ frame: Frame) {
        guard phase == .awaitingHelloAck else { return violation("a second hello-ack") }
        guard let ack = try? HelloAck.decodeRPC(from: frame.payload),
              WireProtocol.versionsSupported.contains(ack.version) else {
            return violation("a hello-ack that cannot be read or names an unknown version")
        }
        // Zero streams or zero credit would make every stream wait for ever; a zero frame limit
        // or keepalive interval is no limit a client can follow either.
        guard ack.streamsConcurrentMax > 0, ack.streamCreditInitial > 0, ack.frameBytesMax > 0, ack.keepaliveIntervalMs > 0 else {
            return violation("a hello-ack with a zero limit (streams \(ack.streamsConcurrentMax), credit \(ack.streamCreditInitial), frame bytes \(ack.frameBytesMax), keepalive \(ack.keepaliveIntervalMs) ms)")
        }
        helloAck = ack
        phase = .open
        health.markReachable()
        startTicking(intervalMs: Int64(clamping: ack.keepaliveIntervalMs))
        ready.succeed(ack)
    }

    func handleResponse(_ frame: Frame) {
        guard case .unary(let tag, let onResponse, _)? = pending.removeValue(forKey: frame.streamID) else {
            return  // cancelled or timed out meanwhile: the answer is no longer wanted
        }
        onResponse(tag, .success(frame.payload))
        closeIfDone()
    }

    func handleError(_ frame: Frame) {
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

    func handleStreamItem(_ frame: Frame) {
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

    func handleStreamEnd(_ frame: Frame) {
        guard case .stream(let state)? = pending.removeValue(forKey: frame.streamID) else { return }
        state.finish(.success(()))
        closeIfDone()
    }

    func handleGoAway(_ frame: Frame) {
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
    func closeIfDone() {
        if phase == .goingAway && pending.isEmpty {
            context?.close(promise: nil)
        }
    }

    // MARK: Keepalive

    func startTicking(intervalMs: Int64) {
        guard let bound = loopBound, intervalMs > 0 else { return }
        let interval = TimeAmount.milliseconds(intervalMs)
        tickTask = bound.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            bound.value.tick()
        }
    }

    func tick() {
        switch keepalive.tick() {
        case .none:
            break
        case .sendPing:
            sendPing(nonce: UInt64(keepalive.silentIntervals))
        case .peerDead:
            // As telling as a stalled call: a client about to send here should go elsewhere.
            health.markUnreachable()
            shutDown(RPCError(.unavailable, "the server did not answer keepalive pings"))
            context?.close(promise: nil)
        }
    }

    /// A ping on the connection's stream; the server's pong is traffic like any other frame.
    func sendPing(nonce: UInt64) {
        var payload = ByteBuffer()
        try? Ping(nonce: nonce).encodeRPC(into: &payload)
        write(Frame(.ping, stream: .connection, payload: payload))
    }
}
