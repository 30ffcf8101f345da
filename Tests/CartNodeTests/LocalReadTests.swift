import CartAPI
import CartDomain
@testable import CartNode
import CartRPC
import CartTestSupport
import CartTypes
import XCTest

/// Replica-local reads (`local: true` on `Cart.get` and `Cart.events`): the asked node answers
/// from its own replica, as far as that has applied, without its leader.
final class LocalReadTests: XCTestCase {
    // Every node answers a local read from its own copy and says so; the copies agree once
    // applied, no call is forwarded and no ReadIndex round runs. Access is checked as for
    // any read.
    func testEveryReplicaAnswersALocalReadFromItsOwnCopy() async throws {
        try await ProxiedPaths.withCluster(size: 3, partitions: 4) { cluster, _ in
            let (_, leader, front, _, cart) = try await cluster.cartLedElsewhere(named: "local")
            let viaLeader = try cluster.client(leader, as: "alice")
            _ = try await viaLeader.call(.cartAddItem, AddItemRequest(cart: cart, item: "sku-c", quantity: 2, request: Keys.next()))
            let last = try await viaLeader.call(.cartAddItem, AddItemRequest(cart: cart, item: "sku-c", quantity: 3, request: Keys.next()))
            let linearizable = try await viaLeader.call(.cartEvents, CartEventsRequest(cart: cart, fromSeq: 1))
            XCTAssertNil(linearizable.servedBy, "a linearizable read names no replica")

            for id in [NodeID(1), NodeID(2), NodeID(3)] {
                let metrics = cluster.node(id).metrics
                let (forwardedBefore, readIndexBefore, localBefore) =
                    (metrics.value(.forwardedCalls), metrics.value(.readsLinearizable), metrics.value(.readsLocal))
                let alice = try cluster.client(id, as: "alice")
                try await eventually(10, "node \(id)'s copy has the last add") {
                    try await alice.call(.cartGet, GetCartRequest(cart: cart, local: true)).cart.seq == last.seq
                }
                let reply = try await alice.call(.cartGet, GetCartRequest(cart: cart, local: true))
                let position = try XCTUnwrap(reply.servedBy)
                XCTAssertEqual(position.node, id)
                XCTAssertEqual(position.leader, leader)
                XCTAssertGreaterThanOrEqual(position.commitIndex, position.appliedIndex)
                XCTAssertEqual(reply.cart.lines.map(\.quantity), [5])
                XCTAssertNil(reply.leaderHint)

                let events = try await alice.call(.cartEvents, CartEventsRequest(cart: cart, fromSeq: 1, local: true))
                XCTAssertEqual(events.servedBy?.node, id)
                XCTAssertEqual(events.events, linearizable.events, "node \(id)'s history is the leader's")
                XCTAssertEqual(events.cartSeq, last.seq)

                XCTAssertEqual(metrics.value(.forwardedCalls), forwardedBefore, "node \(id) forwarded no local read")
                XCTAssertEqual(metrics.value(.readsLinearizable), readIndexBefore, "node \(id) ran no ReadIndex round")
                XCTAssertGreaterThanOrEqual(metrics.value(.readsLocal), localBefore + 2)
            }

            let carol = try cluster.client(front, as: "carol")
            _ = await assertRPCError(.permissionDenied) { try await carol.call(.cartGet, GetCartRequest(cart: cart, local: true)) }
            _ = await assertRPCError(.permissionDenied) {
                try await carol.call(.cartEvents, CartEventsRequest(cart: cart, fromSeq: 1, local: true))
            }
            _ = await assertRPCError(.notFound) {
                try await carol.call(.cartGet, GetCartRequest(cart: "no-such-cart", local: true))
            }
        }
    }

    // The path between a follower ("front") and its partition's leader stalls both ways: the
    // front node knows no leader, so a linearizable read there is refused, but a local read is
    // answered at once from its copy, which stops at what it had applied (a write made since
    // through the third node is not in it). Cut off from the third node too, it refuses local
    // reads once it has heard from no majority for its contact window, naming another replica.
    // Once the paths resume, its copy catches up.
    func testAFollowerCutFromItsLeaderAnswersLocalReadsUntilItHearsNoMajority() async throws {
        try await ProxiedPaths.withCluster(size: 3, partitions: 4) { cluster, proxies in
            let (partition, leader, front, third, cart) = try await cluster.cartLedElsewhere(named: "local-cut")
            let viaFront = try cluster.client(front, as: "alice")
            let viaThird = try cluster.client(third, as: "alice")
            let before = try await viaThird.call(.cartAddItem, AddItemRequest(cart: cart, item: "sku-c", quantity: 1, request: Keys.next()))
            try await eventually(10, "node \(front) applied the add") {
                try await viaFront.call(.cartGet, GetCartRequest(cart: cart, local: true)).cart.seq == before.seq
            }

            proxies[front, leader].hold()
            proxies[leader, front].hold()
            try await eventually(15, "node \(front) knows no leader of \(partition)") {
                await cluster.node(front).partitionStatuses().first { $0.partition == partition }?.leader == NodeID.none
            }
            let during = try await viaThird.call(.cartAddItem, AddItemRequest(cart: cart, item: "sku-c", quantity: 1, request: Keys.next()))
            _ = await assertRPCError(.notLeader) { try await viaFront.call(.cartGet, GetCartRequest(cart: cart)) }
            let stale = try await viaFront.call(.cartGet, GetCartRequest(cart: cart, local: true))
            XCTAssertEqual(stale.cart.seq, before.seq, "the copy ends where node \(front) stopped applying (\(during.seq) since)")
            XCTAssertEqual(stale.servedBy?.leader, NodeID.none)
            let page = try await viaFront.call(.cartEvents, CartEventsRequest(cart: cart, fromSeq: 1, local: true))
            XCTAssertEqual(page.events.last?.seq, before.seq)

            proxies[front, third].hold()
            proxies[third, front].hold()
            try await eventually(15, "node \(front) refuses local reads once it hears no majority") {
                do {
                    _ = try await viaFront.call(.cartGet, GetCartRequest(cart: cart, local: true))
                    return false
                } catch let error as RPCError {
                    return error.code == .unavailable
                }
            }
            let refusal = await assertRPCError(.unavailable) { try await viaFront.call(.cartGet, GetCartRequest(cart: cart, local: true)) }
            XCTAssertTrue(refusal?.message.contains("no majority") ?? false, "\(String(describing: refusal))")
            let hinted = try XCTUnwrap(refusal?.leaderHint?.nodeID, "the refusal names another replica")
            XCTAssertTrue([leader, third].contains(hinted), "hint \(hinted)")

            for (from, to) in [(front, leader), (leader, front), (front, third), (third, front)] { proxies[from, to].release() }
            try await eventually(20, "node \(front)'s copy catches up once the paths resume") {
                (try? await viaFront.call(.cartGet, GetCartRequest(cart: cart, local: true)).cart.seq) == during.seq
            }
        }
    }
}
