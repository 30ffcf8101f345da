import CartGateway
#if canImport(Glibc)
import Glibc
#endif
import CartRPC
import CartTLS
import CartTypes
import CartWire

/// The gateway in front of the client port: who the caller is (decided once per connection
/// from the hello's token) and whether they may call now (token buckets per user and for
/// the node). Authorization against a cart's member list happens at the cart's partition.
struct ClientGateway: Sendable {
    /// The rate-limit bucket of callers without a user (register, login, status): one per
    /// address they connect from (per /64 for IPv6, where one client holds many), so one
    /// flooding client cannot lock everyone else out of logging in. Its name is longer than
    /// any user id may be, so no user, whatever name they register, draws from it.
    static func anonymousBucket(from address: String?) -> UserID {
        UserID(anonymousBucketPrefix + (address.map(Self.rateLimitedAddress) ?? "unknown"))
    }

    private static let anonymousBucketPrefix = String(repeating: "~", count: UserID.bytesMax) + "@"

    /// An IPv4-mapped IPv6 address as IPv4; other IPv6 addresses as their /64 prefix.
    static func rateLimitedAddress(_ address: String) -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        guard address.contains(":"), inet_pton(AF_INET6, address, &bytes) == 1 else { return address }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
            return bytes[12...].map(String.init).joined(separator: ".")
        }
        return Hex.encode(bytes[0..<8]) + "::/64"
    }

    let tokens: TokenService
    let limiter: RateLimiter
    let clock = SystemGatewayClock()

    init(tokens: TokenService, configuration: NodeConfiguration) throws(NodeError) {
        self.tokens = tokens
        do {
            let limits = try RateLimiter.Configuration(
                user: TokenBucket.Limits(ratePerSecond: configuration.userRateLimitPerSecond, burst: configuration.userRateLimitBurst),
                node: TokenBucket.Limits(ratePerSecond: configuration.nodeRateLimitPerSecond, burst: configuration.nodeRateLimitBurst))
            limiter = RateLimiter(configuration: limits, now: SystemGatewayClock().monotonicNow())
        } catch {
            throw NodeError(.configuration, "rate limits: \(error)")
        }
    }

    /// The client port's authenticator: a bad token refuses the connection (`unauthenticated`);
    /// no token gives an anonymous principal that may only register, log in and ask for status.
    var authenticator: RPCAuthenticator {
        { [tokens] hello, tlsPeer in
            do throws(RPCError) {
                let identity = try tokens.identity(for: hello.authToken)
                // The connection lives no longer than its token.
                return .success(RPCPrincipal(name: hello.identity, role: .client, userID: identity?.user, tlsPeer: tlsPeer,
                                             validForMs: identity?.validForMs))
            } catch {
                return .failure(error)
            }
        }
    }

    /// Takes a token from the caller's bucket (the user's, or the address's when there is no
    /// user) and the node's, or says how long to wait.
    func admit(_ principal: RPCPrincipal) -> RPCError? {
        let bucket = principal.userID ?? Self.anonymousBucket(from: principal.remoteAddress)
        switch limiter.admit(user: bucket, now: clock.monotonicNow()) {
        case .allowed:
            return nil
        case .limited(let scope, let retryAfterMs):
            return RPCError(.resourceExhausted, "rate limit of the \(scope.rawValue) reached", retryAfterMs: retryAfterMs)
        }
    }
}

/// The peer port's authenticator: only cluster nodes, proven by a certificate from the
/// cluster CA (mutual TLS) that names the node id the hello claims: `node-<id>` as a DNS
/// subject-alternative name, or as the common name of a certificate without DNS names
/// (certs/README.md). A certificate of the same CA issued to anything else (`cartctl`'s
/// client certificate) or to another node cannot speak for a node: it could otherwise step
/// Raft messages into every partition.
enum PeerGateway {
    static let authenticator: RPCAuthenticator = { hello, tlsPeer in
        guard hello.role == .node, let nodeID = hello.nodeID, nodeID != .none, let tlsPeer else {
            return .failure(RPCError(.unauthenticated, "the peer port accepts only cluster nodes with a certificate"))
        }
        guard certificate(tlsPeer, names: nodeID) else {
            return .failure(RPCError(.unauthenticated, "the certificate (\(tlsPeer)) does not name node-\(nodeID.rawValue)"))
        }
        return .success(RPCPrincipal(name: hello.identity, role: .node, nodeID: nodeID, tlsPeer: tlsPeer))
    }

    /// A message on the peer port speaks for the node its connection authenticated as, and
    /// only for it: a node may not send Raft messages (votes, appends) in another's name.
    static func checkSender(_ claimed: NodeID, of context: RPCCallContext) throws(RPCError) {
        guard context.principal.nodeID == claimed else {
            throw RPCError(.permissionDenied, "a message from \(claimed) on the connection of \(context.principal.nodeID.map { "\($0)" } ?? "no node")")
        }
    }

    /// The name a node's certificate carries: `node-<id>`.
    static func certificateName(of node: NodeID) -> String { "node-\(node.rawValue)" }

    /// Whether `peer`'s certificate names `node`, by the rule OpenSSL's host-name check
    /// applies when a node dials a peer (RFC 6125): a DNS subject-alternative name
    /// `node-<id>`, or, in a certificate without DNS names, the common name. Both directions
    /// of a link so accept the same certificates.
    static func certificate(_ peer: PeerIdentity, names node: NodeID) -> Bool {
        let name = certificateName(of: node)
        // Host names compare without regard to ASCII case, as OpenSSL compares them.
        return peer.dnsNames.isEmpty ? peer.commonName?.lowercased() == name : peer.dnsNames.contains { $0.lowercased() == name }
    }
}
