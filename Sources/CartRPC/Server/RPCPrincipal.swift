import CartTLS
import CartTypes
import CartWire

/// Who is calling, as decided once per connection by the server's `RPCAuthenticator` and
/// handed to every handler in `RPCCallContext`.
public struct RPCPrincipal: Sendable, Hashable {
    /// The name the peer gave in its hello (for logs).
    public var name: String
    public var role: PeerRole
    /// Set for a cluster node.
    public var nodeID: NodeID?
    /// Set for a logged-in user, once an authenticator resolves the hello's token.
    public var userID: UserID?
    /// The verified TLS certificate of the peer, if it presented one.
    public var tlsPeer: PeerIdentity?
    /// How long the credentials stay valid, from the hello (a token's remaining lifetime):
    /// the connection is closed with `unauthenticated` then, streams included. Nil: no limit.
    public var validForMs: Int64?
    /// The IP address the connection comes from; set by the server once the authenticator
    /// has accepted the hello (nil when the socket has none, e.g. a Unix socket).
    public var remoteAddress: String?

    public init(name: String, role: PeerRole, nodeID: NodeID? = nil, userID: UserID? = nil,
                tlsPeer: PeerIdentity? = nil, validForMs: Int64? = nil) {
        self.name = name
        self.role = role
        self.nodeID = nodeID
        self.userID = userID
        self.tlsPeer = tlsPeer
        self.validForMs = validForMs
    }

    /// The default authenticator: trusts the hello as given (no token check). The gateway
    /// replaces it with one that resolves tokens and checks node certificates.
    @Sendable
    public static func fromHello(_ hello: Hello, tlsPeer: PeerIdentity?) -> Result<RPCPrincipal, RPCError> {
        .success(RPCPrincipal(name: hello.identity, role: hello.role, nodeID: hello.nodeID, tlsPeer: tlsPeer))
    }
}

/// Decides who a connection's peer is from its hello (identity, token) and its verified TLS
/// certificate. Returns the principal, or an error (normally `unauthenticated`) that is sent
/// to the peer before the connection closes.
public typealias RPCAuthenticator = @Sendable (Hello, _ tlsPeer: PeerIdentity?) -> Result<RPCPrincipal, RPCError>
