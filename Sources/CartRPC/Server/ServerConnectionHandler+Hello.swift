import CartWire
import NIOCore

extension ServerConnectionHandler {
    /// Version negotiation and authentication. Every refusal is an error frame on stream 0
    /// followed by a close.
    func handleHello(_ frame: Frame) {
        let hello: Hello
        do {
            hello = try Hello.decodeRPC(from: frame.payload)
        } catch {
            failConnection(RPCError(.malformedFrame, "the hello does not decode: \(error.message)"))
            return
        }
        if isOverLimit {
            failConnection(RPCError(.resourceExhausted, "the server has its maximum of \(configuration.connectionsMax) connections",
                                    retryAfterMs: 1_000))
            return
        }
        guard let version = Hello.negotiate(offered: hello.versions) else {
            failConnection(RPCError(.unsupportedVersion,
                                    "client speaks versions \(hello.versions), server speaks \(WireProtocol.versionsSupported)"))
            return
        }
        switch configuration.authenticate(hello, tlsPeer) {
        case .failure(let error):
            failConnection(error)
        case .success(let principal):
            accept(principal, version: version)
        }
    }

    private func accept(_ principal: RPCPrincipal, version: UInt8) {
        var principal = principal
        principal.remoteAddress = context!.channel.remoteAddress?.ipAddress
        connectionInfo = ConnectionInfo(principal: principal, eventLoop: context!.eventLoop, logger: logger)
        phase = .open
        handshakeTimer?.cancel()
        handshakeTimer = nil
        var ack = configuration.helloAck
        ack.version = version
        var payload = ByteBuffer()
        try? ack.encodeRPC(into: &payload)
        write(Frame(.helloAck, stream: .connection, payload: payload))
        startTicking()
        if let validForMs = principal.validForMs, let bound = loopBound {
            credentialsTimer = context!.eventLoop.scheduleTask(in: .milliseconds(max(0, validForMs))) {
                bound.value.credentialsExpired()
            }
        }
    }

    /// The token the connection was opened with expired: calls and streams in progress end,
    /// and the client connects again with a new one.
    func credentialsExpired() {
        guard phase == .open || phase == .draining else { return }
        logger.debug("closing connection: its credentials expired")
        failConnection(RPCError(.unauthenticated, "the connection's token expired; log in again"))
    }

    func handshakeTimedOut() {
        guard phase == .awaitingHello else { return }
        logger.debug("closing connection: no hello within handshakeTimeoutMs")
        failConnection(RPCError(.deadlineExceeded, "no hello within \(configuration.handshakeTimeoutMs) ms"))
    }

    // MARK: Keepalive and idle timeout

    private func startTicking() {
        guard let context, let bound = loopBound else { return }
        let interval = TimeAmount.milliseconds(configuration.keepaliveIntervalMs)
        tickTask = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            bound.value.tick()
        }
    }

    /// Once per keepalive interval: probe a silent peer, close a dead one, close an idle one.
    func tick() {
        guard phase == .open || phase == .draining else { return }
        countPausedReadingAsTraffic()
        switch keepalive.tick() {
        case .none:
            break
        case .sendPing:
            pingNonce &+= 1
            var payload = ByteBuffer()
            try? Ping(nonce: pingNonce).encodeRPC(into: &payload)
            write(Frame(.ping, stream: .connection, payload: payload))
        case .peerDead:
            logger.debug("closing connection: peer silent for \(KeepaliveClock.silentIntervalsMax) keepalive intervals")
            phase = .closing
            context?.close(promise: nil)
            return
        }
        if calls.isEmpty && !requestSinceTick {
            idleMs += configuration.keepaliveIntervalMs
            if idleMs >= configuration.idleTimeoutMs {
                closeGracefully(code: .unavailable, reason: "idle for \(idleMs) ms")
            }
        } else {
            idleMs = 0
        }
        requestSinceTick = false
    }

    /// While the socket cannot take more of our answers, `BackPressureHandler` stops reading,
    /// so the peer's pings and pongs wait unread behind its requests: the silence is ours,
    /// and a slow reader is not a dead one. A dead peer with our data outstanding is the
    /// kernel's to find: the socket's `TCP_USER_TIMEOUT` (three keepalive intervals, set at
    /// accept) closes a connection whose sent data stays unacknowledged that long.
    private func countPausedReadingAsTraffic() {
        if let channel = context?.channel, !channel.isWritable { keepalive.trafficSeen() }
    }

    // MARK: Drain

    /// Go-away: calls in progress finish, new ones are refused with `unavailable`, and the
    /// connection closes when the last call ends.
    func startDrain() {
        switch phase {
        case .awaitingHello:
            failConnection(RPCError(.unavailable, "the server is shutting down", retryAfterMs: 100))
        case .open:
            phase = .draining
            var payload = ByteBuffer()
            try? GoAway(lastAcceptedStreamID: highestStreamID, reason: "server shutting down").encodeRPC(into: &payload)
            write(Frame(.goAway, stream: .connection, payload: payload))
            closeIfDrained()
        case .draining, .closing:
            break
        }
    }

    func closeIfDrained() {
        if phase == .draining && calls.isEmpty {
            closeGracefully(code: .goingAway, reason: "drained")
        }
    }
}
