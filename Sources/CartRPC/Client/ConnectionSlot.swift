import CartTLS
import CartWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// One of an `RPCClient`'s connections to its endpoint: connects on first use, and again
/// (with backoff) whenever the previous connection closed or received go-away.
final class ConnectionSlot: Sendable {
    private enum State {
        case idle
        case connecting(EventLoopFuture<RPCConnection>)
        case ready(RPCConnection)
        case shutDown
    }

    private let configuration: RPCClientConfiguration
    private let health: EndpointHealth
    private let state = NIOLockedValueBox(State.idle)
    /// Connections this slot replaced while they were still open (go-away: they finish the
    /// calls they have, then close), so that `shutdown` closes them too instead of leaving
    /// them to the server's drain. Each leaves the set when it closes.
    private let retired = NIOLockedValueBox<[ObjectIdentifier: RPCConnection]>([:])

    init(configuration: RPCClientConfiguration, health: EndpointHealth) {
        self.configuration = configuration
        self.health = health
    }

    /// A usable connection, connecting if needed.
    func connection() async throws(RPCError) -> RPCConnection {
        enum Next {
            case ready(RPCConnection)
            case wait(EventLoopFuture<RPCConnection>)
            case fail(RPCError)
        }
        let next: Next = state.withLockedValue { state in
            switch state {
            case .ready(let connection) where connection.isUsable:
                return .ready(connection)
            case .connecting(let future):
                return .wait(future)
            case .idle, .ready:
                if case .ready(let replaced) = state { retire(replaced) }
                let future = connectWithBackoff(attempt: 0)
                state = .connecting(future)
                return .wait(future)
            case .shutDown:
                return .fail(RPCError(.unavailable, "the client is shut down"))
            }
        }
        let future: EventLoopFuture<RPCConnection>
        switch next {
        case .ready(let connection): return connection
        case .wait(let pending): future = pending
        case .fail(let error): throw error
        }
        let result: Result<RPCConnection, RPCError>
        do {
            result = .success(try await future.get())
        } catch {
            result = .failure(error as? RPCError ?? RPCError(.unavailable, "\(error)"))
        }
        state.withLockedValue { state in
            guard case .connecting(let current) = state, current === future else { return }
            switch result {
            case .success(let connection): state = .ready(connection)
            case .failure: state = .idle
            }
        }
        return try result.get()
    }

    /// The connection if it is usable now; nil while idle, connecting or after it was lost.
    var readyConnection: RPCConnection? {
        state.withLockedValue { state in
            guard case .ready(let connection) = state, connection.isUsable else { return nil }
            return connection
        }
    }

    private func retire(_ connection: RPCConnection) {
        guard connection.channel.isActive else { return }
        let key = ObjectIdentifier(connection)
        retired.withLockedValue { $0[key] = connection }
        connection.channel.closeFuture.whenComplete { [retired] _ in retired.withLockedValue { $0[key] = nil } }
    }

    func shutdown() async {
        let previous = state.withLockedValue { state -> State in
            defer { state = .shutDown }
            return state
        }
        for connection in retired.withLockedValue({ Array($0.values) }) { await connection.close() }
        switch previous {
        case .ready(let connection):
            await connection.close()
        case .connecting(let future):
            if let connection = try? await future.get() { await connection.close() }
        case .idle, .shutDown:
            break
        }
    }

    private func connectWithBackoff(attempt: Int) -> EventLoopFuture<RPCConnection> {
        let configuration = self.configuration
        let health = self.health
        return Self.connectOnce(configuration, health: health).flatMapError { error in
            let rpcError = error as? RPCError ?? RPCError(.unavailable, "\(error)")
            // Only a node that could not be reached or did not answer: a refused hello or a bad
            // address says nothing about whether the node is up, and is not tried again.
            let unreachable = rpcError.code == .unavailable || rpcError.code == .deadlineExceeded
            if unreachable { health.markUnreachable() }
            guard unreachable, attempt + 1 < configuration.connectAttemptsMax else {
                return configuration.eventLoopGroup.next().makeFailedFuture(rpcError)
            }
            let backoff = Backoff(initialMs: configuration.reconnectBackoffInitialMs, maxMs: configuration.reconnectBackoffMaxMs)
            let delay = backoff.delayMs(attempt: attempt, unitRandom: Double.random(in: 0..<1))
            return configuration.eventLoopGroup.next().scheduleTask(in: .milliseconds(delay)) {}.futureResult
                .flatMap { self.connectWithBackoff(attempt: attempt + 1) }
        }
    }

    /// TCP connect, TLS, hello and hello-ack, within `connectTimeoutMs`.
    static func connectOnce(_ configuration: RPCClientConfiguration, health: EndpointHealth) -> EventLoopFuture<RPCConnection> {
        let eventLoop = configuration.eventLoopGroup.next()
        let ready = eventLoop.makePromise(of: HelloAck.self)
        let usability = ConnectionUsability()
        let handlerBox = NIOLockedValueBox<NIOLoopBound<ClientConnectionHandler>?>(nil)
        let limits = FrameLimits(frameBytesMax: configuration.frameBytesMax)
        let hello = configuration.hello
        let bootstrap = ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.milliseconds(configuration.connectTimeoutMs))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if case .tls(let context, let peerName) = configuration.security {
                        try pipeline.addHandler(TLSHandler(context: context, role: .client, expectedPeerName: peerName))
                    }
                    let handler = ClientConnectionHandler(hello: hello, ready: ready, usable: usability, limits: limits,
                                                          stallProbeIntervalMs: configuration.stallProbeIntervalMs, health: health)
                    if configuration.stallProbeIntervalMs != nil { try pipeline.addHandler(InboundBytesMarker(handler)) }
                    try pipeline.addHandler(ByteToMessageHandler(FrameSplitter(limits: limits)))
                    try pipeline.addHandler(handler)
                    handlerBox.withLockedValue { $0 = NIOLoopBound(handler, eventLoop: channel.eventLoop) }
                }
            }
        let address = "\(configuration.host):\(configuration.port)"
        let bound: ClientBootstrap
        do {
            bound = try configuration.localHost.map { bootstrap.bind(to: try SocketAddress(ipAddress: $0, port: 0)) } ?? bootstrap
        } catch {
            let failure = RPCError(.invalidArgument, "bad local address \(configuration.localHost ?? ""): \(error)")
            ready.fail(failure)
            return eventLoop.makeFailedFuture(failure)
        }
        return bound.connect(host: configuration.host, port: configuration.port)
            .flatMapErrorThrowing { error in
                let failure = RPCError(.unavailable, "cannot connect to \(address): \(Self.connectFailureReason(error))")
                ready.fail(failure)
                throw failure
            }
            .flatMap { channel in
                let timer = eventLoop.scheduleTask(in: .milliseconds(configuration.connectTimeoutMs)) {
                    ready.fail(RPCError(.deadlineExceeded, "no hello-ack from \(address) within \(configuration.connectTimeoutMs) ms"))
                    channel.close(promise: nil)
                }
                return ready.futureResult.map { ack in
                    timer.cancel()
                    return RPCConnection(channel: channel, helloAck: ack, handler: handlerBox.withLockedValue { $0! },
                                         usability: usability)
                }.flatMapErrorThrowing { error in
                    timer.cancel()
                    channel.close(promise: nil)
                    throw error
                }
            }
    }

    /// Why a TCP connect failed, as a person reads it ("connection refused"), not NIO's dump
    /// of every address tried.
    static func connectFailureReason(_ error: any Error) -> String {
        var underlying = error
        if let connection = error as? NIOConnectionError, let first = connection.connectionErrors.first?.error {
            underlying = first
        }
        if let io = underlying as? IOError { return String(cString: strerror(io.errnoCode)).lowercased() }
        return "\(underlying)"
    }
}
