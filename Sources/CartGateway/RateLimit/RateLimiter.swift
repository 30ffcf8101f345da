import CartTypes
import Foundation

/// One token bucket per user plus one for the whole node. A call must find a token in both;
/// a flooding user drains only their own bucket, so the node bucket (sized above the sum of
/// well-behaved users) keeps admitting everyone else.
///
/// Memory is bounded: at most `bucketsMax` user buckets. Users whose buckets are full and
/// untouched for `idleEvictionMs` are forgotten a few at a time on every call; when the table
/// is still full, the least recently used user is forgotten to make room.
///
/// `@unchecked Sendable`: the node calls `admit` from several event loops at once. All mutable
/// state is behind `lock` and touched only inside `withLock`; nothing escapes it. One lock is
/// enough at the call rates of one node (a few hundred nanoseconds inside).
public final class RateLimiter: @unchecked Sendable {
    public struct Configuration: Hashable, Sendable {
        public static let bucketsMaxLimit = 10_000_000

        public var user: TokenBucket.Limits
        public var node: TokenBucket.Limits
        public var bucketsMax: Int
        public var idleEvictionMs: UInt64

        public init(user: TokenBucket.Limits, node: TokenBucket.Limits, bucketsMax: Int = 100_000, idleEvictionMs: UInt64 = 60_000) throws(RateLimitConfigurationError) {
            guard (1...Self.bucketsMaxLimit).contains(bucketsMax) else {
                throw RateLimitConfigurationError("bucketsMax \(bucketsMax) outside 1...\(Self.bucketsMaxLimit)")
            }
            self.user = user
            self.node = node
            self.bucketsMax = bucketsMax
            self.idleEvictionMs = idleEvictionMs
        }
    }

    /// Totals since start, for metrics (`gateway.ratelimit.*`).
    public struct Counters: Hashable, Sendable {
        public var allowed: UInt64 = 0
        public var limitedUser: UInt64 = 0
        public var limitedNode: UInt64 = 0
        public var evictedIdle: UInt64 = 0
        public var evictedForSpace: UInt64 = 0
        public var buckets: Int = 0
    }

    /// Idle users examined per call: enough to keep up with any arrival rate of new users
    /// (each call adds at most one) while keeping every call O(1).
    static let idleEvictionsPerCall = 2

    public let configuration: Configuration
    private let lock = NSLock()
    private var users: UserBucketTable
    private var node: TokenBucket
    private var totals = Counters()

    public init(configuration: Configuration, now: MonotonicInstant) {
        self.configuration = configuration
        users = UserBucketTable(capacity: configuration.bucketsMax)
        node = TokenBucket(limits: configuration.node, now: now)
    }

    /// Admits one call by `user` at `now`, or says which limit it hit and when to retry.
    public func admit(user: UserID, now: MonotonicInstant) -> RateLimitDecision {
        lock.withLock {
            let idleNs = configuration.idleEvictionMs.multipliedSaturating(by: 1_000_000)
            totals.evictedIdle += UInt64(users.evictIdle(now: now, idleNs: idleNs, limit: Self.idleEvictionsPerCall))
            node.refill(now: now)
            let nodeHasToken = node.hasToken
            let (evicted, decision) = users.withBucket(
                for: user, now: now, newBucket: { TokenBucket(limits: configuration.user, now: now) }
            ) { bucket -> RateLimitDecision in
                bucket.refill(now: now)
                guard bucket.hasToken else { return .limited(.user, retryAfterMs: bucket.retryAfterMs) }
                guard nodeHasToken else { return .limited(.node, retryAfterMs: node.retryAfterMs) }
                bucket.take()
                return .allowed
            }
            if evicted { totals.evictedForSpace += 1 }
            switch decision {
            case .allowed:
                node.take()
                totals.allowed += 1
            case .limited(.user, _): totals.limitedUser += 1
            case .limited(.node, _): totals.limitedNode += 1
            }
            return decision
        }
    }

    public var counters: Counters {
        lock.withLock {
            var snapshot = totals
            snapshot.buckets = users.count
            return snapshot
        }
    }

    public func isTracking(_ user: UserID) -> Bool {
        lock.withLock { users.contains(user) }
    }
}

/// The limiter's answer; `limited` maps to the wire code `resourceExhausted` with its retry-after.
public enum RateLimitDecision: Hashable, Sendable {
    public enum Scope: String, Hashable, Sendable {
        /// The caller's own rate.
        case user
        /// The node's total rate.
        case node
    }

    case allowed
    case limited(Scope, retryAfterMs: UInt64)
}
