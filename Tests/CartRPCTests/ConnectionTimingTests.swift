@testable import CartRPC
import XCTest

/// The pure rules behind reconnects and keepalive.
final class ConnectionTimingTests: XCTestCase {
    /// Waits double per attempt from the initial value, stop growing at the maximum, and
    /// jitter keeps each wait within [½, 1] of its nominal value.
    func testBackoffDoublesUpToTheMaximumWithJitterInTheUpperHalf() {
        let backoff = Backoff(initialMs: 50, maxMs: 1_000)
        XCTAssertEqual(backoff.delayMs(attempt: 0, unitRandom: 0.999_999), 49)
        XCTAssertEqual(backoff.delayMs(attempt: 0, unitRandom: 0), 25)
        XCTAssertEqual(backoff.delayMs(attempt: 1, unitRandom: 0), 50)
        XCTAssertEqual(backoff.delayMs(attempt: 3, unitRandom: 0), 200)
        XCTAssertEqual(backoff.delayMs(attempt: 5, unitRandom: 0), 500)  // 1600 capped at 1000
        XCTAssertEqual(backoff.delayMs(attempt: 62, unitRandom: 0), 500)  // no overflow at huge attempts
    }

    /// A peer that speaks resets the count; one silent interval asks for a ping; three in a
    /// row declare the peer dead.
    func testKeepalivePingsAfterOneSilentIntervalAndGivesUpAfterThree() {
        var clock = KeepaliveClock()
        clock.trafficSeen()
        XCTAssertEqual(clock.tick(), .none)
        XCTAssertEqual(clock.tick(), .sendPing)
        clock.trafficSeen()
        XCTAssertEqual(clock.tick(), .none)
        XCTAssertEqual(clock.tick(), .sendPing)
        XCTAssertEqual(clock.tick(), .sendPing)
        XCTAssertEqual(clock.tick(), .peerDead)
    }
}
