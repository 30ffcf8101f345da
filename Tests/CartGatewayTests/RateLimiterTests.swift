import CartTypes
import Foundation
import XCTest
@testable import CartGateway

/// The limiter: per-user and node buckets together, bounded memory, and fairness under a
/// real multi-threaded flood.
final class RateLimiterTests: XCTestCase {
    private func limiter(
        user: (UInt64, UInt64), node: (UInt64, UInt64), bucketsMax: Int = 1_000, idleEvictionMs: UInt64 = 60_000
    ) throws -> RateLimiter {
        let configuration = try RateLimiter.Configuration(
            user: .init(ratePerSecond: user.0, burst: user.1), node: .init(ratePerSecond: node.0, burst: node.1),
            bucketsMax: bucketsMax, idleEvictionMs: idleEvictionMs)
        return RateLimiter(configuration: configuration, now: .zero)
    }

    /// Alice spends her own burst and is limited; Bob is unaffected; the decision says whose
    /// limit it was and when to come back.
    func testEachUserHasTheirOwnBucket() throws {
        let limiter = try limiter(user: (10, 3), node: (1_000, 1_000))
        for _ in 0..<3 { XCTAssertEqual(limiter.admit(user: "alice", now: .zero), .allowed) }
        XCTAssertEqual(limiter.admit(user: "alice", now: .zero), .limited(.user, retryAfterMs: 100))
        XCTAssertEqual(limiter.admit(user: "bob", now: .zero), .allowed)
        let counters = limiter.counters
        XCTAssertEqual(counters.allowed, 4)
        XCTAssertEqual(counters.limitedUser, 1)
    }

    /// When the node as a whole is over its rate, calls are refused with the node scope, and
    /// a refused call does not spend the user's own token.
    func testNodeBucketCapsTotalLoadWithoutChargingTheUser() throws {
        let limiter = try limiter(user: (100, 2), node: (10, 3))
        XCTAssertEqual(limiter.admit(user: "a", now: .zero), .allowed)
        XCTAssertEqual(limiter.admit(user: "b", now: .zero), .allowed)
        XCTAssertEqual(limiter.admit(user: "c", now: .zero), .allowed)
        XCTAssertEqual(limiter.admit(user: "d", now: .zero), .limited(.node, retryAfterMs: 100))
        // d's own bucket still holds its full burst of 2 once the node refills.
        XCTAssertEqual(limiter.admit(user: "d", now: .milliseconds(200)), .allowed)
        XCTAssertEqual(limiter.admit(user: "d", now: .milliseconds(200)), .allowed)
        XCTAssertEqual(limiter.counters.limitedNode, 1)
    }

    /// Ten thousand distinct users pass through a limiter with room for 100: it never tracks
    /// more than 100, and the most recent user is the one kept.
    func testBucketCountNeverExceedsItsBound() throws {
        let limiter = try limiter(user: (10, 10), node: (1_000_000, 1_000_000), bucketsMax: 100)
        for index in 0..<10_000 {
            _ = limiter.admit(user: UserID("user-\(index)"), now: .milliseconds(UInt64(index)))
            XCTAssertLessThanOrEqual(limiter.counters.buckets, 100)
        }
        XCTAssertTrue(limiter.isTracking("user-9999"))
        XCTAssertFalse(limiter.isTracking("user-0"))
        XCTAssertEqual(limiter.counters.buckets, 100)
    }

    /// Idle users are forgotten once their buckets are full and untouched for the idle time;
    /// a user who keeps calling (and a user whose bucket is still refilling) is kept.
    func testIdleFullBucketsAreEvictedButBusyOnesAreKept() throws {
        let limiter = try limiter(user: (1, 5), node: (1_000, 1_000), idleEvictionMs: 1_000)
        for index in 0..<10 { _ = limiter.admit(user: UserID("idle-\(index)"), now: .zero) }
        for _ in 0..<5 { _ = limiter.admit(user: "drained", now: .milliseconds(500)) }
        for second in 1...2 { _ = limiter.admit(user: "busy", now: .milliseconds(UInt64(second) * 1_000)) }
        // At 2 s: the idle users (full since 1 s, untouched since 0 s) go, a couple per call.
        for step in 0..<10 { _ = limiter.admit(user: "busy", now: .milliseconds(2_000 + UInt64(step))) }
        let counters = limiter.counters
        XCTAssertEqual(counters.evictedIdle, 10)
        XCTAssertFalse(limiter.isTracking("idle-0"))
        // "drained" was untouched for 1.5 s but is still refilling (5 tokens at 1/s), so it stays:
        // forgetting it would hand it a fresh burst.
        XCTAssertTrue(limiter.isTracking("drained"))
        XCTAssertTrue(limiter.isTracking("busy"))
    }

    /// Story: Mallory floods from four threads, 20 000 calls each, as fast as they can; the
    /// shared injected clock advances 10 µs per call. Over the measured interval she must be
    /// held to her 1 000/s (plus her burst) within 10%, while Carol, calling 100 times a
    /// second from her own thread during the flood, never sees a refusal.
    func testFloodingUserIsHeldToTheirRateWhileAnotherUserKeepsGettingThrough() throws {
        let userRate: UInt64 = 1_000
        let userBurst: UInt64 = 50
        let limiter = try limiter(user: (userRate, userBurst), node: (1_000_000, 10_000))
        let clock = SteppingClock()
        let floodThreads = 4
        let callsPerThread = 20_000
        let stepNs: UInt64 = 10_000

        let malloryAllowed = Counter()
        let carolResults = Counter()
        let carolRefused = Counter()
        let flooding = Counter()
        let group = DispatchGroup()
        for _ in 0..<floodThreads {
            flooding.add(1)
            group.enter()
            Thread.detachNewThread {
                defer { group.leave(); flooding.add(-1) }
                for _ in 0..<callsPerThread {
                    if limiter.admit(user: "mallory", now: clock.advance(byNanoseconds: stepNs)) == .allowed {
                        malloryAllowed.add(1)
                    }
                }
            }
        }
        // Carol calls every 10 ms of clock time while the flood lasts (bounded by the flood's
        // own bounded length, and by a wall-clock cap in case threads never start).
        let carolDone = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            defer { carolDone.signal() }
            var nextCallNs: UInt64 = 0
            let giveUp = Date().addingTimeInterval(60)
            while Date() < giveUp, carolResults.value < 10_000 {
                let now = clock.now
                if now.nanoseconds >= nextCallNs {
                    carolResults.add(1)
                    if limiter.admit(user: "carol", now: now) != .allowed { carolRefused.add(1) }
                    nextCallNs = now.nanoseconds + 10_000_000
                }
                if flooding.value == 0, carolResults.value > 0 { break }
                usleep(50)
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 120), .success, "flood threads did not finish")
        XCTAssertEqual(carolDone.wait(timeout: .now() + 120), .success, "Carol's thread did not finish")

        let measuredNs = clock.now.nanoseconds
        XCTAssertEqual(measuredNs, UInt64(floodThreads * callsPerThread) * stepNs, "every flood call stepped the clock once")
        let expected = Double(userBurst) + Double(userRate) * Double(measuredNs) / 1e9
        let allowed = Double(malloryAllowed.value)
        XCTAssertLessThanOrEqual(abs(allowed - expected) / expected, 0.10, "Mallory got \(allowed), expected \(expected) over \(measuredNs) ns")
        XCTAssertLessThan(allowed, Double(floodThreads * callsPerThread) / 10, "the flood must mostly be refused")
        XCTAssertGreaterThan(carolResults.value, 0, "Carol made calls during the flood")
        XCTAssertEqual(carolRefused.value, 0, "Carol was refused while Mallory flooded")
    }
}

/// A counter shared by threads.
final class Counter: @unchecked Sendable {
    // `@unchecked Sendable`: `count` is only touched under `lock`.
    private let lock = NSLock()
    private var count = 0

    func add(_ delta: Int) { lock.withLock { count += delta } }

    var value: Int { lock.withLock { count } }
}
