import CartAPI
import CartDomain
@testable import CartNode
import CartRPC
import CartTestSupport
import CartTypes
import XCTest

/// A cluster with more nodes than the replication factor: every node serves every request,
/// also for partitions it does not host.
final class RoutingBeyondReplicasTests: XCTestCase {
    // Five nodes, replication 3: node `outsider` hosts no replica of the cart's partition, so
    // its replicas never tell it who leads. Alice, connected to the outsider, creates the cart,
    // adds to it and reads it back: the outsider asks the partition's replicas, learns the
    // leader from a refusal's hint and forwards there. Then that leader stops; the outsider
    // forgets it once a call to it fails and finds the new leader the same way.
    func testANodeServesPartitionsItDoesNotHostAcrossALeaderChange() async throws {
        let cluster = try TestCluster(size: 5, partitions: 8)
        do {
            try await cluster.startAll()
            try await cluster.waitForLeaders()
            let placement = try XCTUnwrap(cluster.node(1).placement)
            let cart = try XCTUnwrap((0..<1_000).lazy.map { CartID("far-\($0)") }.first { cart in
                !placement.replicas(of: placement.partition(of: cart)).contains(1)
            })
            let partition = placement.partition(of: cart)
            let alice = try cluster.client(1, as: "alice")
            _ = try await alice.call(.itemPut, PutItemRequest(item: "tea", name: "Tea", price: Money(minorUnits: 300),
                                                              initialStock: 100, request: Keys.next()))
            _ = try await alice.call(.cartCreate, CreateCartRequest(cart: cart, request: Keys.next()))
            _ = try await alice.call(.cartAddItem, AddItemRequest(cart: cart, item: "tea", quantity: 2, request: Keys.next()))
            let read = try await alice.call(.cartGet, GetCartRequest(cart: cart)).cart
            XCTAssertEqual(read.lines.map(\.quantity), [2])
            let learned = cluster.node(1).services!.router.leaders.leader(of: partition)
            let current = await cluster.leader(of: partition)
            let leader = try XCTUnwrap(current)
            XCTAssertEqual(learned, leader, "the outsider learned the partition's leader")
            // Only a replica serves a watch: the outsider refuses one and names the leader it
            // learned, with its client address, for the client to watch there.
            let refused = await assertRPCError(.unavailable) {
                var items = try await alice.stream(.syncWatch, WatchRequest(cart: cart, fromSeq: 1)).makeAsyncIterator()
                return try await items.next()
            }
            XCTAssertEqual(refused?.leaderHint?.nodeID, leader, "\(String(describing: refused))")
            XCTAssertEqual(refused?.leaderHint?.address, "127.0.0.1:\(cluster.configurations[Int(leader.rawValue) - 1].clientPort)")
            // So does a local read: the outsider has no copy to read.
            let notHosted = await assertRPCError(.unavailable) { try await alice.call(.cartGet, GetCartRequest(cart: cart, local: true)) }
            XCTAssertEqual(notHosted?.leaderHint?.nodeID, leader, "\(String(describing: notHosted))")

            await cluster.stop(leader)
            _ = try await alice.call(.cartAddItem, AddItemRequest(cart: cart, item: "tea", quantity: 1, request: Keys.next()))
            let after = try await alice.call(.cartGet, GetCartRequest(cart: cart)).cart
            XCTAssertEqual(after.lines.map(\.quantity), [3])
            XCTAssertNotEqual(cluster.node(1).services!.router.leaders.leader(of: partition), leader,
                              "the outsider moved on from the stopped leader")
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }
}
