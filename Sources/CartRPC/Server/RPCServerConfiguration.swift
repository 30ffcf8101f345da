import CartTLS
import CartTypes
import CartWire
import NIOCore
import NIOPosix

/// Where and how an `RPCServer` listens, and the limits it enforces. Every limit is named
/// with its unit; exceeding one gives the peer a typed error, never a crash.
public struct RPCServerConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port; `RPCServer.port` reports the one bound.
    public var port: Int
    public var security: RPCTransportSecurity
    /// The server's name in hello-acks and logs.
    public var identity: String
    public var nodeID: NodeID?

    /// Open connections at once; a connection beyond it gets `resourceExhausted` on its hello.
    public var connectionsMax: Int
    /// Calls in progress on one connection; a request beyond it gets `resourceExhausted`.
    public var inflightRequestsPerConnectionMax: Int
    /// Largest frame accepted (length prefix value); a larger one gets `frameTooLarge` and a close.
    public var frameBytesMax: Int
    /// Time from accepting a connection until its hello must have arrived (TLS included).
    public var handshakeTimeoutMs: Int64
    /// A connection with no call in progress and no request for this long is closed with a go-away.
    /// Checked once per keepalive interval, so it takes effect up to one interval late.
    public var idleTimeoutMs: Int64
    /// Silence after which the server pings; three silent intervals close the connection.
    public var keepaliveIntervalMs: Int64
    /// Credit each server stream starts with (stream items sent before the client grants more).
    public var streamCreditInitial: UInt32
    /// On shutdown, how long in-flight calls may take to finish before connections are closed.
    public var drainTimeoutMs: Int64

    public var eventLoopGroup: any EventLoopGroup
    /// Decides who a new connection's peer is. Called once per connection with the hello and
    /// the verified TLS certificate (nil in plaintext or without a client certificate).
    public var authenticate: RPCAuthenticator

    public static let connectionsMaxDefault = 10_000
    public static let inflightRequestsPerConnectionMaxDefault = 1_024
    public static let handshakeTimeoutMsDefault: Int64 = 10_000
    public static let idleTimeoutMsDefault: Int64 = 300_000
    public static let keepaliveIntervalMsDefault: Int64 = 10_000
    public static let streamCreditInitialDefault: UInt32 = 64
    public static let drainTimeoutMsDefault: Int64 = 10_000

    public init(host: String = "127.0.0.1", port: Int = 0, security: RPCTransportSecurity,
                identity: String = "cartd", nodeID: NodeID? = nil,
                eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                authenticate: @escaping RPCAuthenticator = RPCPrincipal.fromHello) {
        self.host = host
        self.port = port
        self.security = security
        self.identity = identity
        self.nodeID = nodeID
        self.connectionsMax = Self.connectionsMaxDefault
        self.inflightRequestsPerConnectionMax = Self.inflightRequestsPerConnectionMaxDefault
        self.frameBytesMax = FrameLimits.frameBytesDefault
        self.handshakeTimeoutMs = Self.handshakeTimeoutMsDefault
        self.idleTimeoutMs = Self.idleTimeoutMsDefault
        self.keepaliveIntervalMs = Self.keepaliveIntervalMsDefault
        self.streamCreditInitial = Self.streamCreditInitialDefault
        self.drainTimeoutMs = Self.drainTimeoutMsDefault
        self.eventLoopGroup = eventLoopGroup
        self.authenticate = authenticate
    }

    /// Checks the limits; a bad configuration is a typed error at start, not a crash later.
    func validate() throws(RPCError) {
        let frameRange = (FrameHeader.fixedBytes + FrameHeader.deadlineBytes)...FrameLimits.frameBytesHardCap
        guard frameRange.contains(frameBytesMax) else {
            throw RPCError(.invalidArgument, "frameBytesMax \(frameBytesMax) is outside \(frameRange)")
        }
        guard connectionsMax > 0, inflightRequestsPerConnectionMax > 0, streamCreditInitial > 0 else {
            throw RPCError(.invalidArgument, "connectionsMax, inflightRequestsPerConnectionMax and streamCreditInitial must be positive")
        }
        guard handshakeTimeoutMs > 0, idleTimeoutMs > 0, keepaliveIntervalMs > 0, drainTimeoutMs >= 0 else {
            throw RPCError(.invalidArgument, "timeouts and intervals must be positive")
        }
    }

    var helloAck: HelloAck {
        HelloAck(version: WireProtocol.versionCurrent, identity: identity, nodeID: nodeID,
                 frameBytesMax: UInt32(frameBytesMax),
                 streamsConcurrentMax: UInt32(inflightRequestsPerConnectionMax),
                 streamCreditInitial: streamCreditInitial,
                 keepaliveIntervalMs: UInt64(keepaliveIntervalMs))
    }
}
