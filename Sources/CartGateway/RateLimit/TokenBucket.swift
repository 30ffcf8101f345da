/// A token bucket in exact integer arithmetic: it holds up to `burst` tokens and refills at
/// `ratePerSecond`. Tokens are counted in nanotokens (10⁻⁹ token), so one nanosecond adds
/// exactly `ratePerSecond` nanotokens — no rounding anywhere, hence no drift however many
/// small steps the clock takes.
///
/// A pure value: the caller passes the time in; time going backwards adds nothing.
public struct TokenBucket: Hashable, Sendable {
    public struct Limits: Hashable, Sendable {
        public static let ratePerSecondMax: UInt64 = 1_000_000_000
        public static let burstMax: UInt64 = 1_000_000_000

        public let ratePerSecond: UInt64
        public let burst: UInt64

        public init(ratePerSecond: UInt64, burst: UInt64) throws(RateLimitConfigurationError) {
            guard (1...Self.ratePerSecondMax).contains(ratePerSecond) else {
                throw RateLimitConfigurationError("rate \(ratePerSecond)/s outside 1...\(Self.ratePerSecondMax)")
            }
            guard (1...Self.burstMax).contains(burst) else {
                throw RateLimitConfigurationError("burst \(burst) outside 1...\(Self.burstMax)")
            }
            self.ratePerSecond = ratePerSecond
            self.burst = burst
        }
    }

    static let nanotokensPerToken: UInt64 = 1_000_000_000
    static let nanosecondsPerMillisecond: UInt64 = 1_000_000

    public let limits: Limits
    private var nanotokens: UInt64
    private var updatedAt: MonotonicInstant

    /// A full bucket.
    public init(limits: Limits, now: MonotonicInstant) {
        self.limits = limits
        nanotokens = limits.burst * Self.nanotokensPerToken
        updatedAt = now
    }

    private var capacityNanotokens: UInt64 { limits.burst * Self.nanotokensPerToken }

    /// Whole tokens available right now (after the last `refill`).
    public var tokens: UInt64 { nanotokens / Self.nanotokensPerToken }

    public var isFull: Bool { nanotokens == capacityNanotokens }

    /// Adds what the time since the last refill earned, up to the burst.
    public mutating func refill(now: MonotonicInstant) {
        guard now > updatedAt else { return }
        let earned = now.nanoseconds(since: updatedAt).multipliedSaturating(by: limits.ratePerSecond)
        nanotokens = min(capacityNanotokens, nanotokens.addedSaturating(earned))
        updatedAt = now
    }

    public var hasToken: Bool { nanotokens >= Self.nanotokensPerToken }

    /// Removes one token; the caller checked `hasToken`.
    public mutating func take() {
        precondition(hasToken, "take() from a bucket without a whole token")
        nanotokens -= Self.nanotokensPerToken
    }

    /// Milliseconds until a whole token is available, rounded up so that retrying after
    /// exactly this long succeeds (if nobody else takes it first). Zero when one is available.
    public var retryAfterMs: UInt64 {
        guard !hasToken else { return 0 }
        let waitNs = (Self.nanotokensPerToken - nanotokens).dividedRoundingUp(by: limits.ratePerSecond)
        return waitNs.dividedRoundingUp(by: Self.nanosecondsPerMillisecond)
    }

    /// Refills, then takes a token if there is one.
    public mutating func tryTake(now: MonotonicInstant) -> RateDecision {
        refill(now: now)
        guard hasToken else { return .limited(retryAfterMs: retryAfterMs) }
        take()
        return .allowed
    }
}

/// The answer of one bucket.
public enum RateDecision: Hashable, Sendable {
    case allowed
    /// Over the limit; a token will be there after `retryAfterMs`.
    case limited(retryAfterMs: UInt64)
}

/// Rate limit settings that make no sense (zero rate, absurd burst, no room for buckets).
public struct RateLimitConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    public let code = "ratelimit.invalid_configuration"
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { "\(code): \(message)" }
}
