import XCTest
@testable import CartGateway

/// The small pieces under the tokens: base64url and the system clock the node passes in.
final class EncodingAndClockTests: XCTestCase {
    /// Every length 0...100 of seeded random bytes round-trips through base64url, without
    /// padding and only in the URL-safe alphabet.
    func testBase64URLRoundTripsEveryLength() {
        var random = SplitMix64(seed: 99)
        for length in 0...100 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            let text = Base64URL.encode(bytes)
            XCTAssertEqual(Base64URL.decode(text), bytes, "length \(length)")
            XCTAssertFalse(text.contains("=") || text.contains("+") || text.contains("/"), text)
        }
        // RFC 4648 §10 vectors, in the URL-safe alphabet and unpadded.
        XCTAssertEqual(Base64URL.encode(Array("foobar".utf8)), "Zm9vYmFy")
        XCTAssertEqual(Base64URL.encode(Array("fo".utf8)), "Zm8")
        XCTAssertEqual(Base64URL.encode([0xFB, 0xFF]), "-_8")
        // Non-canonical trailing bits and impossible lengths are refused.
        XCTAssertNil(Base64URL.decode("Zm9"))
        XCTAssertNil(Base64URL.decode("Zm8="))
        XCTAssertNil(Base64URL.decode("A"))
    }

    /// The system clock's monotonic reading never goes back, and its wall reading is a
    /// plausible Unix time in milliseconds (after 2020-01-01).
    func testSystemClockReadsPlausibleTimes() {
        let clock = SystemGatewayClock()
        var previous = clock.monotonicNow()
        for _ in 0..<1_000 {
            let next = clock.monotonicNow()
            XCTAssertGreaterThanOrEqual(next, previous)
            previous = next
        }
        XCTAssertGreaterThan(clock.wallNow(), UnixMillis(1_577_836_800_000))
    }

    /// Instants saturate instead of wrapping, and durations convert to whole nanoseconds.
    func testInstantArithmeticSaturates() {
        let late = MonotonicInstant(nanoseconds: .max - 5)
        XCTAssertEqual(late.advanced(byMilliseconds: 1), MonotonicInstant(nanoseconds: .max))
        XCTAssertEqual(MonotonicInstant.zero.advanced(by: .milliseconds(3)), .milliseconds(3))
        XCTAssertEqual(MonotonicInstant.milliseconds(5).nanoseconds(since: .milliseconds(7)), 0)
        XCTAssertEqual(MonotonicInstant.zero.advanced(by: .milliseconds(-3)), .zero)
    }
}
