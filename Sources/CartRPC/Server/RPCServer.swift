import CartTLS
import CartWire
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Serves registered methods on one listening socket.
///
/// ```swift
/// let server = RPCServer(configuration: RPCServerConfiguration(port: 0, security: .tls(context)))
/// server.register(.addItem) { request, context in … }
/// let port = try await server.start()
/// …
/// await server.shutdown()   // go-away, in-flight calls finish, then close
/// ```
///
/// Each connection's pipeline, socket upwards: `TLSHandler` (unless plaintext) →
/// `FrameSplitter` → `ServerConnectionHandler` (which parses frames with `FrameCodec` and
/// batches its answers per read in a `FrameBatch`).
public final class RPCServer: Sendable {
    public let configuration: RPCServerConfiguration
    let logger: Logger
    private let registry = NIOLockedValueBox(HandlerRegistry())
    private let tracker = ConnectionTracker()
    private let listener = NIOLockedValueBox<(any Channel)?>(nil)

    public init(configuration: RPCServerConfiguration, logger: Logger = Logger(label: "cartrpc.server")) {
        self.configuration = configuration
        self.logger = logger
        registerBuiltins()
    }

    func insert(_ method: MethodDescriptor, _ handler: ServerHandler) {
        registry.withLockedValue { $0.insert(method, handler) }
    }

    /// Connections open now, including ones still in their handshake.
    public var connectionCount: Int { tracker.count }

    /// True once shutdown has asked every connection to drain (new calls are refused).
    public var isDraining: Bool { tracker.isDraining }

    /// The bound port once started.
    public var port: Int? { listener.withLockedValue { $0?.localAddress?.port } }

    /// Binds and starts accepting. Returns the bound port (useful with port 0).
    @discardableResult
    public func start() async throws(RPCError) -> Int {
        try await start(accepting: true)
    }

    /// Binds; with `accepting` false, connections wait in the listen backlog until
    /// `startAccepting()`. Each connection serves the methods registered when it was
    /// accepted, so a server whose methods are registered after it binds (they need its
    /// port) binds without accepting, registers, then accepts: a connection accepted in
    /// between would answer `unknownMethod` for its whole life, and refuse one-way calls
    /// without a word.
    @discardableResult
    public func start(accepting: Bool) async throws(RPCError) -> Int {
        try configuration.validate()
        let channel: any Channel
        do {
            channel = try await makeBootstrap()
                .serverChannelOption(.autoRead, value: accepting)
                .bind(host: configuration.host, port: configuration.port).get()
        } catch {
            throw RPCError(.unavailable, "cannot listen on \(configuration.host):\(configuration.port): \(error)")
        }
        listener.withLockedValue { $0 = channel }
        logger.info("listening", metadata: ["address": "\(channel.localAddress?.description ?? "?")"])
        return channel.localAddress?.port ?? configuration.port
    }

    /// Starts accepting the connections of a server started with `accepting: false`,
    /// those waiting in the backlog first.
    public func startAccepting() async throws(RPCError) {
        guard let channel = listener.withLockedValue({ $0 }) else {
            throw RPCError(.internal, "the server was not started")
        }
        do {
            try await channel.setOption(.autoRead, value: true).get()
        } catch {
            throw RPCError(.unavailable, "cannot accept on \(configuration.host):\(configuration.port): \(error)")
        }
    }

    /// Stops accepting, sends go-away on every connection, lets calls in progress finish for
    /// up to `drainTimeoutMs`, then closes whatever is left.
    public func shutdown() async {
        let channel = listener.withLockedValue { $0 }
        try? await channel?.close()
        let open = tracker.drainAll()
        let deadline = NIODeadline.now() + .milliseconds(configuration.drainTimeoutMs)
        for connection in open {
            // Whatever is still open at the deadline is closed, finished or not.
            let forceClose = connection.eventLoop.scheduleTask(deadline: deadline) { connection.close(promise: nil) }
            try? await connection.closeFuture.get()
            forceClose.cancel()
        }
    }

    /// `TCP_USER_TIMEOUT` (Linux, `IPPROTO_TCP` option 18): how long sent data may stay
    /// unacknowledged before the kernel drops the connection. The keepalive clock stops
    /// counting while the server cannot write (see `ServerConnectionHandler.tick`); this finds
    /// a dead peer then.
    static let tcpUserTimeout = ChannelOptions.Types.SocketOption(level: .tcp, name: NIOBSDSocket.Option(rawValue: 18))

    static func silentIntervalsToDeadMs(_ keepaliveIntervalMs: Int64) -> Int64 {
        let (ms, overflow) = keepaliveIntervalMs.multipliedReportingOverflow(by: Int64(KeepaliveClock.silentIntervalsMax))
        return overflow ? .max : ms
    }

    private func makeBootstrap() -> ServerBootstrap {
        let configuration = self.configuration
        let tracker = self.tracker
        let registry = self.registry
        let logger = self.logger
        return ServerBootstrap(group: configuration.eventLoopGroup)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(Self.tcpUserTimeout, value: ChannelOptions.Types.SocketOption.Value(
                clamping: Self.silentIntervalsToDeadMs(configuration.keepaliveIntervalMs)))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Self.configurePipeline(channel, configuration: configuration,
                                               registry: registry.withLockedValue { $0 },
                                               tracker: tracker, logger: logger)
                }
            }
    }

    private static func configurePipeline(_ channel: any Channel, configuration: RPCServerConfiguration,
                                          registry: HandlerRegistry, tracker: ConnectionTracker,
                                          logger: Logger) throws {
        let pipeline = channel.pipeline.syncOperations
        let limits = FrameLimits(frameBytesMax: configuration.frameBytesMax)
        // A client that sends requests but does not read the answers must not make the server
        // buffer them without end: while the socket cannot take more, stop reading requests.
        try pipeline.addHandler(BackPressureHandler())
        if let tls = configuration.security.tlsContext {
            try pipeline.addHandler(TLSHandler(context: tls, role: .server))
        }
        try pipeline.addHandler(ByteToMessageHandler(FrameSplitter(limits: limits, firstFrameBytesMax: FrameLimits.helloBytesMax)))
        // The drain may come between `admit` and the handler's creation below: it is then
        // remembered, and the handler starts draining as soon as it exists.
        let box = NIOLockedValueBox<(handler: NIOLoopBound<ServerConnectionHandler>?, drainRequested: Bool)>((nil, false))
        let entry = ConnectionTracker.Entry(channel: channel) {
            let bound = box.withLockedValue { box -> NIOLoopBound<ServerConnectionHandler>? in
                if box.handler == nil { box.drainRequested = true }
                return box.handler
            }
            guard let bound else { return }
            bound.eventLoop.execute { bound.value.startDrain() }
        }
        let (id, isOverLimit, refused) = tracker.admit(entry, connectionsMax: configuration.connectionsMax)
        if refused {
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { _ in tracker.remove(id) }
        var connectionLogger = logger
        connectionLogger[metadataKey: "connection"] = "\(id)"
        let handler = ServerConnectionHandler(registry: registry, configuration: configuration,
                                              logger: connectionLogger, isOverLimit: isOverLimit)
        try pipeline.addHandler(handler)
        let bound = NIOLoopBound(handler, eventLoop: channel.eventLoop)
        let drainRequested = box.withLockedValue { box -> Bool in
            box.handler = bound
            return box.drainRequested
        }
        if drainRequested { channel.eventLoop.execute { bound.value.startDrain() } }
    }
}
