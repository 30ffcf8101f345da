import CartAPI
import CartDomain
@testable import CartNode
import CartTestSupport
import CartTypes
import XCTest

/// A restarted replica rebuilds its state from its own log, through what it had applied,
/// before the node serves: not only from its snapshot and its hard state's commit (saved
/// with a new term or vote only), with the rest left for its leader to announce.
final class ApplyAtStartTests: XCTestCase {
    // Node 2 applies the adds, notes its applied mark while running, and stops with its two
    // peers. Started alone, it knows no leader and can learn nothing committed from anyone:
    // whatever it holds comes from its own disk.
    func testANodeRestartedAloneHoldsWhatItHadApplied() async throws {
        let cluster = try TestCluster(size: 3)
        try await cluster.startAll()
        do {
            try await cluster.waitForLeaders()
            let alice = try cluster.client(1, as: "alice")
            _ = try await alice.call(.itemPut, PutItemRequest(item: "sku-m", name: "Tea", price: Money(minorUnits: 250),
                                                              initialStock: 100, request: Keys.next()))
            _ = try await alice.call(.cartCreate, CreateCartRequest(cart: "cart-m", request: Keys.next()))
            for _ in 1...5 {
                _ = try await alice.call(.cartAddItem, AddItemRequest(cart: "cart-m", item: "sku-m", quantity: 1, request: Keys.next()))
            }
            let partition = try XCTUnwrap(cluster.node(1).placement).partition(of: CartID("cart-m"))
            try await eventually(10, "node 2 applied the five adds") {
                await cluster.node(2).replicaState(partition)?.carts["cart-m"]?.lines.first?.quantity == 5
            }
            // The running replica notes what it applied (about once a second), not only its stop.
            let replica = try XCTUnwrap(cluster.node(2).replica(partition))
            let applied = try await replica.loop.submit { replica.appliedIndex }.get()
            try await eventually(10, "node 2's applied mark reached \(applied)") {
                ((try? replica.storage.log.loadAppliedMark()) ?? .zero) >= applied
            }
            for id: NodeID in [1, 3, 2] { await cluster.stop(id) }

            try await cluster.start(2)
            let restarted = await cluster.node(2).replicaState(partition)
            XCTAssertEqual(restarted?.carts["cart-m"]?.lines,
                           [CartLine(item: "sku-m", quantity: 5, unitPrice: Money(minorUnits: 250))])
            let status = await cluster.node(2).partitionStatuses().first { $0.partition == partition }
            XCTAssertEqual(status?.leader, NodeID.none, "alone, node 2 cannot have heard from a leader")
            XCTAssertGreaterThanOrEqual(status?.appliedIndex ?? LogIndex.zero, applied)

            // Its group back, it serves the cart as before and takes new writes.
            try await cluster.start(1)
            try await cluster.start(3)
            try await cluster.waitForLeaders()
            let again = try cluster.client(2, as: "alice")
            let reply = try await again.call(.cartAddItem, AddItemRequest(cart: "cart-m", item: "sku-m", quantity: 1, request: Keys.next()))
            XCTAssertEqual(reply.seq, Seq(7))
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }
}
