import CartAPI
import CartDomain
@testable import CartNode
import CartRPC
import CartTestSupport
import CartTypes
import XCTest

/// A watch served by a replica that is cut off from the rest of its group.
final class IsolatedReplicaWatchTests: XCTestCase {
    // Alice watches her cart through node 3. Then every path between node 3 and the other
    // nodes swallows its traffic (nothing closes, nothing arrives). Node 3 can receive no
    // more events, and after three election timeouts without a leader it ends alice's watch
    // with `unavailable` (her client would resume on another node) instead of leaving it
    // silent until the network heals; a new watch on node 3 is refused the same way.
    func testAWatchOnAnIsolatedReplicaEndsWithUnavailable() async throws {
        try await ProxiedPaths.withCluster(size: 3, partitions: 4) { cluster, proxies in
            let alice = try cluster.client(3, as: "alice")
            _ = try await alice.call(.cartCreate, CreateCartRequest(cart: "island", request: Keys.next()))
            let stream = try await alice.stream(.syncWatch, WatchRequest(cart: "island", fromSeq: 0))
            let first = try await collect(stream, count: 1)
            XCTAssertEqual(first.map(\.seq), [1])

            for (path, proxy) in proxies.proxies where path.from == 3 || path.to == 3 { proxy.blackHole() }
            await assertRPCError(.unavailable) { _ = try await collect(stream, count: 1, seconds: 20) }
            await assertRPCError(.unavailable) {
                let again = try await alice.stream(.syncWatch, WatchRequest(cart: "island", fromSeq: 0))
                _ = try await collect(again, count: 1, seconds: 10)
            }
        }
    }
}
