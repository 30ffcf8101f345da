/// When to try a failed call again: only for retryable codes, at most `attemptsMax` attempts
/// in all, after an exponential backoff with full jitter (a uniformly random delay in
/// 0...min(`backoffMaxMs`, `backoffBaseMs`·2^(attempt-1)), AWS's "full jitter", so that
/// clients that failed together do not retry together), and never so late that the retry
/// could not finish before the caller's deadline.
///
/// The randomness is passed in, so tests (and the simulator) replay exact delays.
public struct RetryPolicy: Hashable, Sendable {
    public static let attemptsMaxLimit = 100

    public let attemptsMax: Int
    public let backoffBaseMs: UInt64
    public let backoffMaxMs: UInt64
    /// Time an attempt needs at least; a retry that would start with less than this left
    /// before the deadline is not made (it could only end in `deadlineExceeded`).
    public let attemptTimeMinMs: UInt64

    public init(attemptsMax: Int = 4, backoffBaseMs: UInt64 = 20, backoffMaxMs: UInt64 = 1_000, attemptTimeMinMs: UInt64 = 5) throws(RetryConfigurationError) {
        guard (1...Self.attemptsMaxLimit).contains(attemptsMax) else {
            throw RetryConfigurationError("attemptsMax \(attemptsMax) outside 1...\(Self.attemptsMaxLimit)")
        }
        guard backoffBaseMs > 0, backoffBaseMs <= backoffMaxMs else {
            throw RetryConfigurationError("backoff must satisfy 0 < backoffBaseMs (\(backoffBaseMs)) <= backoffMaxMs (\(backoffMaxMs))")
        }
        self.attemptsMax = attemptsMax
        self.backoffBaseMs = backoffBaseMs
        self.backoffMaxMs = backoffMaxMs
        self.attemptTimeMinMs = attemptTimeMinMs
    }

    /// The delay before the next attempt after attempt number `attempt` (1 for the first
    /// call) failed with `failure` at `now`, or nil when the call must fail now: the code is
    /// not retryable, the attempts are used up, or the retry would not fit in the deadline.
    /// A server's retry-after (`notBeforeMs`) is honoured as a lower bound.
    public func nextDelay(
        after failure: FailureCode,
        attempt: Int,
        now: MonotonicInstant,
        deadline: MonotonicInstant,
        notBeforeMs: UInt64 = 0,
        using random: inout some RandomNumberGenerator
    ) -> Duration? {
        precondition(attempt >= 1, "attempts are numbered from 1")
        guard failure.isRetryable, attempt < attemptsMax else { return nil }
        let delayMs = max(notBeforeMs, UInt64.random(in: 0...backoffCeilingMs(attempt: attempt), using: &random))
        let startsAt = now.advanced(byMilliseconds: delayMs)
        guard startsAt.advanced(byMilliseconds: attemptTimeMinMs) <= deadline else { return nil }
        return .milliseconds(delayMs)
    }

    /// min(backoffMaxMs, backoffBaseMs · 2^(attempt-1)), without overflow.
    func backoffCeilingMs(attempt: Int) -> UInt64 {
        let doublings = min(attempt - 1, 63)
        let (ceiling, overflow) = backoffBaseMs.multipliedReportingOverflow(by: 1 << UInt64(doublings))
        return overflow ? backoffMaxMs : min(backoffMaxMs, ceiling)
    }
}

public struct RetryConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    public let code = "retry.invalid_configuration"
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { "\(code): \(message)" }
}
