import CartTypes
import CartWire
import NIOCore
import NIOPosix

/// Where an `RPCClient` connects and how it introduces itself, retries and times out.
public struct RPCClientConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var security: RPCTransportSecurity
    /// Sent in the hello: the program's name for the server's logs.
    public var identity: String
    public var role: PeerRole
    public var nodeID: NodeID?
    public var authToken: String?
    /// Protocol versions offered in the hello.
    public var helloVersions: [UInt8]

    /// Connections kept to the endpoint; calls are spread over them round-robin.
    public var connectionsPerEndpoint: Int
    /// TCP connect, TLS handshake and hello-ack, together, per attempt.
    public var connectTimeoutMs: Int64
    /// Connect attempts per reconnect before calls fail with `unavailable`.
    public var connectAttemptsMax: Int
    /// Wait before the second attempt; doubles per attempt up to `reconnectBackoffMaxMs`,
    /// with jitter (each wait is drawn from [½, 1] of the nominal value).
    public var reconnectBackoffInitialMs: Int64
    public var reconnectBackoffMaxMs: Int64
    /// Used when a call gives no timeout; nil waits for the answer however long it takes.
    public var callTimeoutMsDefault: Int64?
    /// Notices a hung server (a stopped process, a frozen machine, a network that drops
    /// everything) long before the calls' timeouts: while calls are open (unary calls
    /// waiting, server streams such as watches running), a server that sent nothing for one
    /// interval gets a ping, and one that still sent nothing an interval later is presumed
    /// hung. Its calls fail with `unavailable` and the connection closes, so callers retry
    /// (and watches resume) elsewhere at once. A server that is merely slow to answer a call,
    /// or has nothing to send on a stream, still answers the ping; an idle stream's connection
    /// costs a ping about once a second. The silence before giving up is 2–3 intervals. nil: off.
    public var stallProbeIntervalMs: Int64?
    /// Largest frame the client accepts from the server.
    public var frameBytesMax: Int
    /// The local IP address to connect from (a multi-homed host); nil: the system's choice.
    public var localHost: String?

    public var eventLoopGroup: any EventLoopGroup

    public init(host: String = "127.0.0.1", port: Int, security: RPCTransportSecurity,
                identity: String = "cartrpc-client", role: PeerRole = .client,
                eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.host = host
        self.port = port
        self.security = security
        self.identity = identity
        self.role = role
        self.helloVersions = WireProtocol.versionsSupported
        self.connectionsPerEndpoint = 1
        self.connectTimeoutMs = 10_000
        self.connectAttemptsMax = 5
        self.reconnectBackoffInitialMs = 50
        self.reconnectBackoffMaxMs = 5_000
        self.callTimeoutMsDefault = 30_000
        self.stallProbeIntervalMs = 500
        self.frameBytesMax = FrameLimits.frameBytesDefault
        self.eventLoopGroup = eventLoopGroup
    }

    var hello: Hello {
        Hello(versions: helloVersions, role: role, identity: identity, nodeID: nodeID, authToken: authToken)
    }
}
