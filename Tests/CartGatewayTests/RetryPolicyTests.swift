import XCTest
@testable import CartGateway

/// Retries: only for retryable codes, bounded in number, jittered, inside the deadline.
final class RetryPolicyTests: XCTestCase {
    private let policy = try! RetryPolicy(attemptsMax: 5, backoffBaseMs: 10, backoffMaxMs: 200, attemptTimeMinMs: 5)

    /// Codes whose answer cannot change are never retried, however much time is left.
    func testNonRetryableCodesAreNeverRetried() {
        var random = SplitMix64(seed: 1)
        for code in FailureCode.allCases where !code.isRetryable {
            XCTAssertNil(policy.nextDelay(after: code, attempt: 1, now: .zero, deadline: .milliseconds(60_000), using: &random), "\(code)")
        }
        XCTAssertEqual(Set(FailureCode.allCases.filter(\.isRetryable)),
                       [.unavailable, .notLeader, .resourceExhausted, .aborted, .deadlineExceeded, .goingAway, .connectionFailed])
    }

    /// With all the time in the world, a call is tried `attemptsMax` times and no more; each
    /// delay lies within its exponential ceiling (10, 20, 40, 80 ms), capped at 200 ms.
    func testAttemptsAreBoundedAndDelaysStayUnderTheirCeiling() {
        var random = SplitMix64(seed: 7)
        for attempt in 1...4 {
            let ceiling = min(200, 10 << (attempt - 1))
            for _ in 0..<200 {
                let delay = policy.nextDelay(after: .unavailable, attempt: attempt, now: .zero, deadline: .milliseconds(60_000), using: &random)
                XCTAssertNotNil(delay)
                XCTAssertLessThanOrEqual(delay ?? .zero, .milliseconds(ceiling))
            }
        }
        XCTAssertNil(policy.nextDelay(after: .unavailable, attempt: 5, now: .zero, deadline: .milliseconds(60_000), using: &random))
        XCTAssertEqual(policy.backoffCeilingMs(attempt: 100), 200, "no overflow for late attempts")
    }

    /// Full jitter spreads the delays over the whole range (clients that failed together do
    /// not retry together), and a seed replays the same delays.
    func testJitterSpreadsDelaysAndReplaysFromASeed() {
        func delays(seed: UInt64) -> [Duration] {
            var random = SplitMix64(seed: seed)
            return (0..<100).compactMap { _ in
                policy.nextDelay(after: .unavailable, attempt: 4, now: .zero, deadline: .milliseconds(60_000), using: &random)
            }
        }
        let first = delays(seed: 42)
        XCTAssertEqual(first, delays(seed: 42))
        XCTAssertNotEqual(first, delays(seed: 43))
        XCTAssertLessThan(first.min()!, .milliseconds(20))
        XCTAssertGreaterThan(first.max()!, .milliseconds(60))
    }

    /// Story: a caller with a deadline keeps failing with `unavailable`. Simulating every
    /// retry (delay, then an attempt that takes 3 ms), no attempt ever starts so late that it
    /// could not have its minimum time before the deadline, and the last one ends before it —
    /// across many seeds and deadlines.
    func testRetriesNeverOutliveTheDeadline() {
        for seed in 0..<500 as Range<UInt64> {
            var random = SplitMix64(seed: seed)
            let deadline = MonotonicInstant.milliseconds(1 + seed % 150)
            var now = MonotonicInstant.zero
            var attempt = 1
            while let delay = policy.nextDelay(after: .unavailable, attempt: attempt, now: now, deadline: deadline, using: &random) {
                now = now.advanced(by: delay)
                XCTAssertLessThanOrEqual(now.advanced(byMilliseconds: policy.attemptTimeMinMs), deadline, "seed \(seed)")
                now = now.advanced(byMilliseconds: 3)
                attempt += 1
                XCTAssertLessThanOrEqual(attempt, policy.attemptsMax, "seed \(seed)")
            }
        }
    }

    /// A server's retry-after is a floor on the delay; when it would not fit in the deadline
    /// the call fails now instead of waiting in vain.
    func testServerRetryAfterIsHonouredOrTheCallFailsNow() {
        var random = SplitMix64(seed: 3)
        let delay = policy.nextDelay(after: .resourceExhausted, attempt: 1, now: .zero, deadline: .milliseconds(1_000), notBeforeMs: 300, using: &random)
        XCTAssertEqual(delay, .milliseconds(300))
        XCTAssertNil(policy.nextDelay(after: .resourceExhausted, attempt: 1, now: .zero, deadline: .milliseconds(200), notBeforeMs: 300, using: &random))
        XCTAssertNil(policy.nextDelay(after: .unavailable, attempt: 1, now: .milliseconds(500), deadline: .milliseconds(500), using: &random),
                     "a deadline already reached allows no retry")
    }

    /// Nonsense settings are configuration errors.
    func testInvalidConfigurationsAreRefused() {
        XCTAssertNotNil(thrownError { () throws(RetryConfigurationError) in try RetryPolicy(attemptsMax: 0) })
        XCTAssertNotNil(thrownError { () throws(RetryConfigurationError) in try RetryPolicy(backoffBaseMs: 0) })
        XCTAssertNotNil(thrownError { () throws(RetryConfigurationError) in try RetryPolicy(backoffBaseMs: 10, backoffMaxMs: 5) })
    }
}
