import CartGateway
import CartTLS
import CartTypes
import NIOCore
import NIOPosix

/// How a `CartClient` reaches the cluster, who it is, and how patient it is.
public struct CartClientConfiguration: Sendable {
    /// Client listeners to start from; more are learned from `Cluster.status` and leader hints.
    public var endpoints: [Endpoint]
    /// TLS trust for the client ports (server certificate checked against the endpoint's
    /// host); nil speaks plaintext, for tests of the protocol only.
    public var tls: TLSContext?
    /// Sent in every hello: a login token, or `user:<id>` on nodes run with dev identities.
    public var authToken: String?
    /// The program's name in the nodes' logs.
    public var identity: String
    /// Names this client's requests (with a per-request number) so retries are applied once.
    public var clientID: ClientID
    /// Connections per node; calls are spread over them.
    public var connectionsPerNode: Int
    /// Whole-operation deadline, retries included, when the caller gives none.
    public var operationTimeoutMs: Int64
    /// Longest single attempt, so one hung node cannot use up the whole deadline.
    public var attemptTimeoutMs: Int64
    /// TCP connect, TLS and hello, per attempt.
    public var connectTimeoutMs: Int64
    /// A node that answered nothing (its connection given up as hung, or a connect that
    /// failed) is left alone this long: requests go to the other nodes, which forward them or
    /// name the new leader, instead of each waiting for the node again. Then one connection
    /// attempt in the background finds out whether it answers: requests go back to it once
    /// that attempt completes its hello; if it fails, the node is left alone again. (Any
    /// connection that completes its hello ends the wait at once.)
    public var unreachableNodeHoldMs: Int64
    /// How long a node may send nothing, not even a pong, while calls wait or watches run on it, before its
    /// connection is given up as hung: pinged after a half, given up after 1–1.5 times this.
    public var stallTimeoutMs: Int64
    /// Which failures are retried, how often, and the backoff between attempts.
    public var retryPolicy: RetryPolicy
    /// Follow the cluster: learn nodes and partition leaders from `Cluster.status` and leader
    /// hints, and send each request to its leader. Off, every request goes to the configured
    /// endpoints only and the node forwards it (to exercise forwarding, or pin a client).
    public var followLeaders: Bool
    /// A watch gives up after this many reconnects in a row that delivered no event.
    public var watchReconnectsWithoutProgressMax: Int
    public var eventLoopGroup: any EventLoopGroup

    public init(endpoints: [Endpoint], tls: TLSContext?, authToken: String? = nil, identity: String = "cartclient",
                eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        precondition(!endpoints.isEmpty, "a client needs at least one endpoint")
        self.endpoints = endpoints
        self.tls = tls
        self.authToken = authToken
        self.identity = identity
        self.clientID = ClientID(UInt64.random(in: 1...UInt64(Int64.max)))
        self.connectionsPerNode = 1
        self.operationTimeoutMs = 15_000
        self.attemptTimeoutMs = 5_000
        self.connectTimeoutMs = 2_000
        self.unreachableNodeHoldMs = 2_000
        self.stallTimeoutMs = 1_000
        // Enough attempts to ride out an election (a few hundred ms) plus a node restart.
        self.retryPolicy = try! RetryPolicy(attemptsMax: 12, backoffBaseMs: 10, backoffMaxMs: 500, attemptTimeMinMs: 5)
        self.followLeaders = true
        self.watchReconnectsWithoutProgressMax = 40
        self.eventLoopGroup = eventLoopGroup
    }
}
