import CartAPI
import CartDomain
import CartGateway
import CartRPC
import CartTypes
import CartWire
import NIOConcurrencyHelpers

/// The typed, async client of a SharedCart cluster, used by `cartctl`, `cartload` and the
/// cluster tests.
///
/// Each request goes to its partition's leader when the client knows it (learned from
/// `Cluster.status`, from leader hints in replies and errors), otherwise to any node, which
/// forwards it. Retryable failures (no leader yet, node down, overloaded) are retried with
/// bounded attempts, exponential backoff and full jitter, never past the operation's deadline;
/// every mutation carries a request key made once per operation, so a retry after an
/// ambiguous failure is applied once. `watch` follows a cart's events across reconnects.
///
/// ```swift
/// let client = CartClient(configuration: CartClientConfiguration(endpoints: endpoints, tls: context, authToken: token))
/// let cart = try await client.createCart()
/// _ = try await client.addItem(cart.cart, item: "sku-42", quantity: 2)
/// for try await event in client.watch(cart.cart) { print(event) }
/// await client.shutdown()
/// ```
public final class CartClient: Sendable {
    public let configuration: CartClientConfiguration
    let pool: NodePool
    let routing: ClusterRouting
    let keys: RequestKeys
    let statusLearned = RoutingWarmup()
    private let retryCount = NIOLockedValueBox<UInt64>(0)

    /// Attempts sent again after a failed one (to another node, after a backoff), since the
    /// client was made: what a failover cost its callers without failing them.
    public var retries: UInt64 { retryCount.withLockedValue { $0 } }

    public init(configuration: CartClientConfiguration) {
        self.configuration = configuration
        self.pool = NodePool(configuration: configuration)
        self.routing = ClusterRouting(endpoints: configuration.endpoints)
        self.keys = RequestKeys(client: configuration.clientID)
    }

    /// Closes every connection; calls in progress fail.
    public func shutdown() async {
        await pool.shutdown()
    }

    /// A new request key (client id, request number) for one logical mutation.
    public func makeRequestKey() -> RequestKey { keys.make() }

    /// The partition map once the cluster's status has been read (nil before).
    public var partitionMap: PartitionMap? { routing.partitionMap }

    /// Endpoints the client knows: configured ones and those learned from the cluster.
    public var knownEndpoints: [Endpoint] { routing.knownEndpoints }

    // MARK: Calls

    /// Calls `method` where `route` says, retrying retryable failures until the operation's
    /// deadline (`timeoutMs`, else the configuration's).
    func call<Request, Response>(_ method: RPCMethod<Request, Response>, _ request: Request, route: Route,
                                 timeoutMs: Int64? = nil) async throws(CartClientError) -> Response {
        var attempts = CallAttempts(deadline: deadline(timeoutMs: timeoutMs))
        return try await call(method, request, route: route, attempts: &attempts)
    }

    /// Makes attempts, from where `attempts` stands, until one succeeds, a failure is final or
    /// the deadline passes.
    func call<Request, Response>(_ method: RPCMethod<Request, Response>, _ request: Request, route: Route,
                                 attempts: inout CallAttempts) async throws(CartClientError) -> Response {
        while true {
            let (endpoint, attemptMs) = try nextAttempt(method.name, route: route, &attempts)
            let rpc = try pool.client(for: endpoint)  // fails for good once the client is shut down
            do {
                let reply = try await rpc.call(method, request, timeout: .milliseconds(attemptMs))
                learn(from: reply, route: route, endpoint: endpoint)
                return reply
            } catch {
                let delay = try afterFailure(CartClient.rpcError(error), route: route, endpoint: endpoint, &attempts)
                try await waitBeforeRetry(delay, method.name, &attempts)
            }
        }
    }

    func deadline(timeoutMs: Int64?) -> MonotonicInstant {
        SystemGatewayClock().monotonicNow().advanced(byMilliseconds: UInt64(max(1, timeoutMs ?? configuration.operationTimeoutMs)))
    }

    /// Where the next attempt goes and how long it may take, or the deadline error.
    func nextAttempt(_ name: String, route: Route, _ attempts: inout CallAttempts) throws(CartClientError) -> (endpoint: Endpoint, attemptMs: Int64) {
        let endpoint = attempts.redirect ?? target(route, avoiding: attempts.avoiding)
        attempts.redirect = nil
        let now = SystemGatewayClock().monotonicNow()
        guard now < attempts.deadline else {
            throw CartClientError(.deadlineExceeded, "\(name) did not finish before its deadline", attempts: attempts.number)
        }
        let remainingMs = Int64(attempts.deadline.nanoseconds(since: now) / 1_000_000)
        return (endpoint, max(1, min(remainingMs, configuration.attemptTimeoutMs)))
    }

    /// Learns what a failed attempt tells about the cluster and decides what follows: the
    /// error that ends the call, or the wait before the next attempt (nil: go at once).
    func afterFailure(_ error: RPCError, route: Route, endpoint: Endpoint,
                      _ attempts: inout CallAttempts) throws(CartClientError) -> Duration? {
        learn(from: error, route: route, endpoint: endpoint)
        // A node that could not serve (no leader, down, draining, hung) is tried last.
        if [.notLeader, .unavailable, .goingAway, .deadlineExceeded].contains(error.code) {
            attempts.avoiding.insert(endpoint)
        }
        if case .node = route { throw CartClientError(error, attempts: attempts.number) }
        // A redirect names the leader: the next attempt goes there, partition known or not.
        if configuration.followLeaders, let hint = error.leaderHint, let leader = try? Endpoint(parsing: hint.address),
           leader != endpoint {
            attempts.redirect = leader
        }
        let redirected = attempts.redirect != nil
        var random = SystemRandomNumberGenerator()
        guard let delay = configuration.retryPolicy.nextDelay(
            after: FailureCode(error.code), attempt: attempts.number, now: SystemGatewayClock().monotonicNow(),
            deadline: attempts.deadline, notBeforeMs: redirected ? 0 : (error.retryAfterMs ?? 0),
            using: &random) else {
            throw CartClientError(error, attempts: attempts.number)
        }
        // A redirect names another node as the leader: go there at once rather than wait. A
        // hint naming the node just asked (a leader not ready yet) is no redirect: wait as
        // told, or the client would ask it again at once, in a loop.
        return redirected ? nil : delay
    }

    func waitBeforeRetry(_ delay: Duration?, _ name: String, _ attempts: inout CallAttempts) async throws(CartClientError) {
        if let delay { try? await Task.sleep(for: delay) }
        if Task.isCancelled { throw CartClientError(.cancelled, "\(name) was cancelled", attempts: attempts.number) }
        attempts.number += 1
        retryCount.withLockedValue { $0 += 1 }
    }

    /// Reads the cluster's status, to learn the partition map and the leaders: once, or again
    /// `RoutingWarmup.retryAfterMs` after a failure. Meanwhile requests go to any node, which
    /// forwards them, and hints fill the leader cache.
    func warmUpRouting() async {
        guard configuration.followLeaders, statusLearned.begin() else { return }
        let status = try? await call(.clusterStatus, ClusterStatusRequest(), route: .anyNode, timeoutMs: 3_000)
        if let status { routing.learn(status) }
        statusLearned.finish(learned: status != nil)
    }

    func partition(of cart: CartID) async -> PartitionID? {
        await warmUpRouting()
        return routing.partitionMap?.partition(of: cart)
    }

    func target(_ route: Route, avoiding: Set<Endpoint>) -> Endpoint {
        switch route {
        case .node(let endpoint):
            return endpoint
        case .partition(let partition?):
            if let leader = routing.leaderEndpoint(of: partition), !avoiding.contains(leader), !isUnreachable(leader) {
                return leader
            }
            // Without a leader to go to, a replica: it forwards a call as any node would, and
            // only a replica serves a watch.
            return routing.nextReplica(of: partition, avoiding: avoiding, isUnreachable: isUnreachable)
        case .replica(let partition?):
            return routing.nextReplica(of: partition, avoiding: avoiding, isUnreachable: isUnreachable)
        case .partition(nil), .replica(nil), .anyNode:
            return routing.nextEndpoint(avoiding: avoiding, isUnreachable: isUnreachable)
        }
    }

    /// A node that answered nothing lately is left alone (`unreachableNodeHoldMs`).
    func isUnreachable(_ endpoint: Endpoint) -> Bool {
        pool.isUnreachable(endpoint, holdMs: configuration.unreachableNodeHoldMs)
    }

    func learn<Response>(from reply: Response, route: Route, endpoint: Endpoint) {
        guard configuration.followLeaders, let partition = route.partition, let hinted = reply as? any LeaderHinted else { return }
        if let hint = hinted.leaderHint {
            routing.learn(hint, for: partition, askedNode: routing.node(at: endpoint))
        } else {
            routing.confirm(endpoint, leads: partition)
        }
    }

    func learn(from error: RPCError, route: Route, endpoint: Endpoint) {
        guard configuration.followLeaders, let partition = route.partition else { return }
        if let hint = error.leaderHint {
            routing.learn(hint, for: partition, askedNode: routing.node(at: endpoint))
        } else if error.code == .notLeader || error.code == .unavailable || error.code == .goingAway {
            routing.forget(partition, at: endpoint)
        }
    }

    static func rpcError(_ error: any Error) -> RPCError {
        if let rpc = error as? RPCError { return rpc }
        if let client = error as? CartClientError { return RPCError(client.code, client.message) }
        if error is CancellationError { return RPCError(.cancelled, "the call was cancelled") }
        return RPCError(.internal, "\(error)")
    }
}

/// Makes the first request read the cluster status; later ones do not wait for it again,
/// unless it failed (the cluster was not up yet): then the first request after
/// `retryAfterMs` reads it again, so a long-lived client started early still learns the map.
final class RoutingWarmup: Sendable {
    static let retryAfterMs: UInt64 = 1_000

    private enum State {
        case idle
        case running
        case learned
        case failed(retryAt: MonotonicInstant)
    }

    private let state = NIOLockedValueBox(State.idle)

    /// Whether a request should run the warm-up now (none ran, or the last failed long enough
    /// ago) rather than go on with what routing knows.
    var isDue: Bool { state.withLockedValue { Self.isDue($0) } }

    /// True for the one caller that is to run the warm-up now.
    func begin() -> Bool {
        state.withLockedValue { state in
            guard Self.isDue(state) else { return false }
            state = .running
            return true
        }
    }

    private static func isDue(_ state: State) -> Bool {
        switch state {
        case .idle: true
        case .running, .learned: false
        case .failed(let retryAt): SystemGatewayClock().monotonicNow() >= retryAt
        }
    }

    func finish(learned: Bool) {
        state.withLockedValue { state in
            state = learned ? .learned : .failed(retryAt: SystemGatewayClock().monotonicNow().advanced(byMilliseconds: Self.retryAfterMs))
        }
    }
}
