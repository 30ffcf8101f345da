import XCTest
@testable import CartGateway

/// Token bucket arithmetic under an injected clock.
final class TokenBucketTests: XCTestCase {
    private func bucket(rate: UInt64, burst: UInt64, at now: MonotonicInstant = .zero) throws -> TokenBucket {
        TokenBucket(limits: try TokenBucket.Limits(ratePerSecond: rate, burst: burst), now: now)
    }

    /// A fresh bucket lets a burst through at once, then refuses the next call.
    func testFullBucketAdmitsExactlyTheBurst() throws {
        var bucket = try bucket(rate: 10, burst: 5)
        for call in 1...5 {
            XCTAssertEqual(bucket.tryTake(now: .zero), .allowed, "call \(call)")
        }
        XCTAssertEqual(bucket.tryTake(now: .zero), .limited(retryAfterMs: 100))
    }

    /// At 10/s one token comes back every 100 ms: not at 99.999999 ms, exactly at 100 ms.
    /// The bucket never holds more than the burst however long it sits idle.
    func testRefillAddsTokensAtTheRateAndStopsAtTheBurst() throws {
        var bucket = try bucket(rate: 10, burst: 2)
        _ = bucket.tryTake(now: .zero)
        _ = bucket.tryTake(now: .zero)
        XCTAssertEqual(bucket.tryTake(now: MonotonicInstant(nanoseconds: 99_999_999)), .limited(retryAfterMs: 1))
        XCTAssertEqual(bucket.tryTake(now: .milliseconds(100)), .allowed)
        bucket.refill(now: .milliseconds(3_600_000))
        XCTAssertEqual(bucket.tokens, 2)
        XCTAssertTrue(bucket.isFull)
        bucket.refill(now: .milliseconds(UInt64.max / 1_000_000))
        XCTAssertEqual(bucket.tokens, 2, "an enormous idle period saturates instead of overflowing")
    }

    /// A million 1 µs steps at 7 tokens/s (7 000 nanotokens per step, so a token is never
    /// earned on a step boundary): exactly 7 tokens are earned over the second of steps, so
    /// the bucket admits its burst of 10 plus 7 — nothing lost or gained to rounding. (The
    /// bucket is never full during the run, so the burst cap does not hide any remainder.)
    func testMillionSmallStepsDoNotDrift() throws {
        var bucket = try bucket(rate: 7, burst: 10)
        var allowed = 0
        for step in 0...1_000_000 {
            let now = MonotonicInstant(nanoseconds: UInt64(step) * 1_000)
            while bucket.tryTake(now: now) == .allowed { allowed += 1 }
        }
        XCTAssertEqual(allowed, 10 + 7)
        XCTAssertEqual(bucket.retryAfterMs, 143, "a full token's wait: 1/7 s, rounded up to the millisecond")
    }

    /// Retry-after is exact: retrying after it succeeds, retrying a millisecond sooner does not.
    func testRetryAfterIsTheEarliestMillisecondThatSucceeds() throws {
        for (rate, burst) in [(1, 1), (3, 2), (7, 1), (1_000, 10), (333, 5), (5_000, 3)] as [(UInt64, UInt64)] {
            var bucket = try bucket(rate: rate, burst: burst)
            var now = MonotonicInstant.milliseconds(5)
            for _ in 0..<burst { XCTAssertEqual(bucket.tryTake(now: now), .allowed) }
            now = now.advanced(byNanoseconds: 123_457)  // an odd offset, part of a token earned
            guard case .limited(let retryAfterMs) = bucket.tryTake(now: now) else {
                XCTFail("rate \(rate): expected a limit")
                continue
            }
            XCTAssertGreaterThanOrEqual(retryAfterMs, 1)
            var early = bucket
            XCTAssertNotEqual(early.tryTake(now: now.advanced(byMilliseconds: retryAfterMs - 1)), .allowed, "rate \(rate)")
            XCTAssertEqual(bucket.tryTake(now: now.advanced(byMilliseconds: retryAfterMs)), .allowed, "rate \(rate)")
        }
    }

    /// A clock reading older than the last one (another thread's) earns nothing.
    func testTimeGoingBackwardsEarnsNothing() throws {
        var bucket = try bucket(rate: 1, burst: 1, at: .milliseconds(1_000))
        XCTAssertEqual(bucket.tryTake(now: .milliseconds(1_000)), .allowed)
        XCTAssertEqual(bucket.tryTake(now: .milliseconds(10)), .limited(retryAfterMs: 1_000))
        XCTAssertEqual(bucket.tryTake(now: .milliseconds(2_000)), .allowed)
    }

    /// Zero or absurd limits are configuration errors.
    func testInvalidLimitsAreRefused() {
        XCTAssertNotNil(thrownError { () throws(RateLimitConfigurationError) in try TokenBucket.Limits(ratePerSecond: 0, burst: 1) })
        XCTAssertNotNil(thrownError { () throws(RateLimitConfigurationError) in try TokenBucket.Limits(ratePerSecond: 1, burst: 0) })
        XCTAssertNotNil(thrownError { () throws(RateLimitConfigurationError) in
            try TokenBucket.Limits(ratePerSecond: 1, burst: TokenBucket.Limits.burstMax + 1)
        })
    }
}
