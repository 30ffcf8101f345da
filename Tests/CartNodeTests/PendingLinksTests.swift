import CartAPI
import CartDomain
@testable import CartNode
import CartRPC
import CartTestSupport
import CartTypes
import XCTest

/// A cart partition keeps the links it owes the users' partitions until they are confirmed,
/// and its leader re-sends what a node never delivered.
final class PendingLinksTests: XCTestCase {
    // The node that serves alice's share, and later the unshare, never sends their links (as
    // if it had stopped right after answering). The cart's partition holds them pending; its
    // leader re-sends them after two sweeps, bob's cart list follows, and the confirmations
    // end the pending entries.
    func testLinksANodeNeverSentAreResentByTheCartPartitionsLeader() async throws {
        let cluster = try TestCluster(size: 1) { $0.checkoutSweepIntervalMs = 200 }
        try await cluster.startAll()
        do {
            try await cluster.waitForLeaders()
            let anonymous = try cluster.client(1, as: nil)
            _ = try await anonymous.call(.userRegister, RegisterUserRequest(user: "bob", password: "pw-bob", request: Keys.next()))
            let node = try cluster.node(1)
            node.disableImmediateLinkSendsForTesting()
            let alice = try cluster.client(1, as: "alice")
            let bob = try cluster.client(1, as: "bob")
            _ = try await alice.call(.cartCreate, CreateCartRequest(cart: "lost-links", request: Keys.next()))
            let shared = try await alice.call(.cartShare, ShareCartRequest(cart: "lost-links", users: ["bob"], request: Keys.next()))
            let partition = try XCTUnwrap(node.placement).partition(of: CartID("lost-links"))
            let pending = await node.replicaState(partition)?.linksPending["lost-links"]
            XCTAssertEqual(pending?.map(\.user), ["alice", "bob"])
            XCTAssertEqual(pending?.last?.seq, shared.seq)
            let before = try await bob.call(.userCarts, UserRequest(user: "bob")).carts
            XCTAssertEqual(before, [], "nothing was sent yet")

            try await eventually(10, "the leader re-sent bob's link") {
                try await bob.call(.userCarts, UserRequest(user: "bob")).carts == [CartLink(cart: "lost-links", role: .shared)]
            }
            try await eventually(10, "the links are confirmed") {
                await node.replicaState(partition)?.linksPending["lost-links"] == nil
            }
            XCTAssertGreaterThanOrEqual(node.metrics.value(.linksResent), 2)

            _ = try await alice.call(.cartUnshare, UnshareCartRequest(cart: "lost-links", user: "bob", request: Keys.next()))
            try await eventually(10, "the leader re-sent bob's unlink") {
                try await bob.call(.userCarts, UserRequest(user: "bob")).carts.isEmpty
            }
            try await eventually(10, "the unlink is confirmed") {
                await node.replicaState(partition)?.linksPending["lost-links"] == nil
            }
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }
}
