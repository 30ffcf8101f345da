import Benchmark
import CartGateway
import CartTypes

// The gateway's cost per call: the same simulated call (route a cart to its partition and
// "send" it) with every check off, with the checks and a token verified once per connection
// (only the expiry re-checked per call, as the node does), and with the token verified from
// scratch on every call (base64url decode + HMAC-SHA256).
//
//   swift package --package-path Benchmarks benchmark --target GatewayBenchmark
//
// Each sample is 1 000 calls (scaling factor kilo), so the harness's own per-sample cost
// does not swamp a call; the tables report per call.

/// Everything one node's gateway holds, with limits far above the benchmark's rate so every
/// call is admitted and the full path runs each time.
struct GatewayFixture {
    let map = PartitionMap(partitionCount: 64)
    let cart = CartID("0b6c1e2a-5a3e-4f5e-9a55-0d1f2e3c4b5a")
    let user = UserID("alice")
    let wallNow = UnixMillis(1_790_000_000_000)
    let token: String
    let verifier: TokenVerifier
    let claims: TokenClaims
    let limiter: RateLimiter
    let breakers: BreakerRegistry
    let caps: PeerAdmission
    let leaders = LeaderCache()

    init() throws {
        let keyring = try SecretKeyring.generate()
        token = try TokenSigner(keyring: keyring).sign(user: user, issuedAt: wallNow)
        verifier = TokenVerifier(keyring: keyring)
        claims = try verifier.verify(token, now: wallNow)
        let unlimited = try TokenBucket.Limits(ratePerSecond: TokenBucket.Limits.ratePerSecondMax, burst: TokenBucket.Limits.burstMax)
        limiter = RateLimiter(configuration: try .init(user: unlimited, node: unlimited), now: .zero)
        breakers = BreakerRegistry(configuration: try .init())
        caps = PeerAdmission(limits: try .init(activeRequestsMax: 1_024, pendingRequestsMax: 1_024))
        for partition in 0..<map.partitionCount {
            leaders.learn(.init(node: NodeID(UInt64(partition % 3 + 1)), term: 1), for: PartitionID(partition))
        }
    }

    /// The call itself, identical in every variant: find the partition and its leader node.
    @inline(__always)
    func route() -> (PartitionID, NodeID) {
        let partition = map.partition(of: cart)
        return (partition, NodeID(UInt64(partition.rawValue % 3 + 1)))
    }

    enum TokenCheck { case cachedClaims, freshVerify }

    /// Auth → rate limit → leader lookup → breaker → caps → (call) → release. Returns whether
    /// the call would have been sent.
    func checkedCall(_ tokenCheck: TokenCheck, now: MonotonicInstant) -> Bool {
        do {
            switch tokenCheck {
            case .cachedClaims: try claims.checkNotExpired(now: wallNow)
            case .freshVerify: _ = try verifier.verify(token, now: wallNow)
            }
        } catch {
            return false
        }
        guard limiter.admit(user: user, now: now) == .allowed else { return false }
        let (partition, _) = route()
        guard let leader = leaders.leader(of: partition)?.node else { return false }
        guard case .allowed(let breakerPermit) = breakers.admit(peer: leader, now: now) else { return false }
        guard case .active(let capPermit) = caps.admit(peer: leader) else { return false }
        blackHole(partition)
        _ = caps.complete(peer: leader, capPermit)
        breakers.record(peer: leader, breakerPermit, succeeded: true, now: now)
        return true
    }
}

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal], scalingFactor: .kilo, maxDuration: .seconds(3), maxIterations: 10_000)

    Benchmark("Gateway call, checks off", configuration: configuration) { benchmark in
        let fixture = try GatewayFixture()
        for _ in benchmark.scaledIterations {
            blackHole(fixture.route())
        }
    }

    Benchmark("Gateway call, checks on, token verified once per connection", configuration: configuration) { benchmark in
        let fixture = try GatewayFixture()
        var nowNs: UInt64 = 0
        for _ in benchmark.scaledIterations {
            nowNs += 1_000
            precondition(fixture.checkedCall(.cachedClaims, now: MonotonicInstant(nanoseconds: nowNs)))
        }
    }

    Benchmark("Gateway call, checks on, token verified on every call", configuration: configuration) { benchmark in
        let fixture = try GatewayFixture()
        var nowNs: UInt64 = 0
        for _ in benchmark.scaledIterations {
            nowNs += 1_000
            precondition(fixture.checkedCall(.freshVerify, now: MonotonicInstant(nanoseconds: nowNs)))
        }
    }

    // Each check alone, to see where the time and the allocations of the full path go.
    Benchmark("Gateway part, token expiry check", configuration: configuration) { benchmark in
        let fixture = try GatewayFixture()
        for _ in benchmark.scaledIterations {
            blackHole(try? fixture.claims.checkNotExpired(now: fixture.wallNow))
        }
    }

    Benchmark("Gateway part, rate limiter", configuration: configuration) { benchmark in
        let fixture = try GatewayFixture()
        var nowNs: UInt64 = 0
        for _ in benchmark.scaledIterations {
            nowNs += 1_000
            blackHole(fixture.limiter.admit(user: fixture.user, now: MonotonicInstant(nanoseconds: nowNs)))
        }
    }

    Benchmark("Gateway part, leader lookup", configuration: configuration) { benchmark in
        let fixture = try GatewayFixture()
        for _ in benchmark.scaledIterations {
            blackHole(fixture.leaders.leader(of: 7))
        }
    }

    Benchmark("Gateway part, breaker admit and record", configuration: configuration) { benchmark in
        let fixture = try GatewayFixture()
        var nowNs: UInt64 = 0
        for _ in benchmark.scaledIterations {
            nowNs += 1_000
            let now = MonotonicInstant(nanoseconds: nowNs)
            guard case .allowed(let permit) = fixture.breakers.admit(peer: 2, now: now) else { preconditionFailure() }
            fixture.breakers.record(peer: 2, permit, succeeded: true, now: now)
        }
    }

    Benchmark("Gateway part, concurrency caps admit and complete", configuration: configuration) { benchmark in
        let fixture = try GatewayFixture()
        for _ in benchmark.scaledIterations {
            guard case .active(let permit) = fixture.caps.admit(peer: 2) else { preconditionFailure() }
            blackHole(fixture.caps.complete(peer: 2, permit))
        }
    }
}
