import CartAPI
@testable import CartNode
import CartRPC
import CartTypes
import CartWire
import XCTest

/// The gateway's rate limits as a client sees them.
final class RateLimitTests: XCTestCase {
    // Mallory floods the node far beyond her rate (20 calls/s, burst 20): most of her calls
    // are refused with `resourceExhausted` and a retry-after, while alice, calling in
    // between, is always served.
    func testFloodingUserIsLimitedWhileAnotherUserIsServed() async throws {
        let cluster = try TestCluster(size: 1, tweak: Self.slowUsers)
        try await cluster.startAll()
        do {
            try await cluster.waitForLeaders()
            let mallory: RPCClient = try cluster.client(1, as: "mallory")
            let alice: RPCClient = try cluster.client(1, as: "alice")
            let health = RPCMethod<ClusterStatusRequest, HealthReply>.clusterHealth
            var limited = 0
            var aliceServed = 0
            let started = ContinuousClock.now
            for round in 0..<200 {
                if await Self.isRateLimited(mallory, health) { limited += 1 }
                if round % 20 == 0 {
                    let _: HealthReply = try await alice.call(health, ClusterStatusRequest())
                    aliceServed += 1
                }
            }
            Self.assertServedWithinTheBucket(served: 200 - limited, since: started)
            XCTAssertEqual(aliceServed, 10)
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    // Callers without a token (register, login, status) have a bucket per address: a
    // client flooding from 127.0.0.2 is limited, while another anonymous client, from
    // 127.0.0.3, is always served. (Before, every anonymous caller shared one bucket, and
    // one flood locked everyone out of logging in.)
    func testAnonymousCallersAreLimitedPerAddress() async throws {
        let cluster = try TestCluster(size: 1, tweak: Self.slowUsers)
        try await cluster.startAll()
        do {
            try await cluster.waitForLeaders()
            let flood = try cluster.client(1, as: nil, from: "127.0.0.2")
            let other = try cluster.client(1, as: nil, from: "127.0.0.3")
            let health = RPCMethod<ClusterStatusRequest, HealthReply>.clusterHealth
            var limited = 0
            var otherServed = 0
            let started = ContinuousClock.now
            for round in 0..<200 {
                if await Self.isRateLimited(flood, health) { limited += 1 }
                if round % 20 == 0 {
                    let _: HealthReply = try await other.call(health, ClusterStatusRequest())
                    otherServed += 1
                }
            }
            Self.assertServedWithinTheBucket(served: 200 - limited, since: started)
            XCTAssertEqual(otherServed, 10)
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    // Anonymous buckets: one per IPv4 address (an IPv4-mapped IPv6 address counts as the
    // IPv4 one) and per IPv6 /64, named longer than any user id, so no registered name
    // (say "~anonymous@127.0.0.1") can draw from another address's bucket.
    func testAnonymousBucketsAreKeyedByAddressAndNoUserCanHaveOnesName() {
        XCTAssertEqual(ClientGateway.rateLimitedAddress("127.0.0.2"), "127.0.0.2")
        XCTAssertEqual(ClientGateway.rateLimitedAddress("::ffff:10.1.2.3"), "10.1.2.3")
        XCTAssertEqual(ClientGateway.rateLimitedAddress("2001:db8:1:2:aaaa::1"), ClientGateway.rateLimitedAddress("2001:db8:1:2:bbbb::9"))
        XCTAssertNotEqual(ClientGateway.rateLimitedAddress("2001:db8:1:2::1"), ClientGateway.rateLimitedAddress("2001:db8:1:3::1"))
        XCTAssertEqual(ClientGateway.rateLimitedAddress("2001:db8:1:2::1"), "20010db800010002::/64")
        XCTAssertGreaterThan(ClientGateway.anonymousBucket(from: "127.0.0.1").rawValue.utf8.count, UserID.bytesMax)
    }

    /// A bucket of 20 tokens refilled at 20/s never serves more than 20 + 20 × (seconds
    /// elapsed) calls, however fast or slow the machine ran them; 200 calls in much less
    /// than 9 s must have seen refusals.
    private static func assertServedWithinTheBucket(served: Int, since started: ContinuousClock.Instant,
                                                    file: StaticString = #filePath, line: UInt = #line) {
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        XCTAssertLessThanOrEqual(Double(served), 20 + 20 * seconds + 1, "served in \(elapsed)", file: file, line: line)
        if seconds < 8 { XCTAssertLessThan(served, 200, "some calls were limited", file: file, line: line) }
    }

    private static func slowUsers(_ configuration: inout NodeConfiguration) {
        configuration.userRateLimitPerSecond = 20
        configuration.userRateLimitBurst = 20
    }

    private static func isRateLimited(_ client: RPCClient, _ method: RPCMethod<ClusterStatusRequest, HealthReply>) async -> Bool {
        do {
            let _: HealthReply = try await client.call(method, ClusterStatusRequest())
            return false
        } catch {
            return error.code == .resourceExhausted && error.retryAfterMs != nil
        }
    }
}
