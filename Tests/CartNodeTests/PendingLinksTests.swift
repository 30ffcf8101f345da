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
            _ = try await anonymous.call(.userRegister, RegisterUserRequest(user: "bob", password: "secret-bob", request: Keys.next()))
            let node = cluster.node(1)
            node.disableImmediateLinkSendsForTesting()
            let alice = try cluster.client(1, as: "alice")
            let bob = try cluster.client(1, as: "bob")
            _ = try await alice.call(.cartCreate, CreateCartRequest(cart: "lost-links", request: Keys.next()))
            let shared = try await alice.call(.cartShare, ShareCartRequest(cart: "lost-links", users: ["bob"], request: Keys.next()))
            let partition = try XCTUnwrap(node.placement).partition(of: CartID("lost-links"))
            let pending = await node.replicaState(partition)?.linksPending["lost-links"]
            let before = try await bob.call(.userCarts, UserRequest(user: "bob")).carts
            // Unless a stall longer than two sweeps let the leader re-send them already (its
            // counter goes up before each re-send), the links wait, unsent.
            if node.metrics.value(.linksResent) == 0 {
                XCTAssertEqual(pending?.map(\.user), ["alice", "bob"])
                XCTAssertEqual(pending?.last?.seq, shared.seq)
                XCTAssertEqual(before, [], "nothing was sent yet")
            }

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

    // Alice's cart holds a share with "ghost", who never registered (`Cart.share` refuses such
    // names, so the share is proposed directly here, as a log written without that check
    // would hold it), and she checks the cart out before any link is sent. The re-sent link is
    // refused (no such user) and taking ghost off the cart is refused too (the cart is checked
    // out): the link is confirmed anyway, instead of being re-sent every sweep for ever.
    func testALinkThatCanNeverBeRecordedStopsBeingResent() async throws {
        let cluster = try TestCluster(size: 1) { configuration in
            configuration.devIdentities = false
            configuration.checkoutSweepIntervalMs = 200
        }
        try await cluster.startAll()
        do {
            try await cluster.waitForLeaders()
            let anonymous = try cluster.client(1, as: nil)
            _ = try await anonymous.call(.userRegister, RegisterUserRequest(user: "alice", password: "pw-alice", request: Keys.next()))
            let login = try await anonymous.call(.userLogin, LoginRequest(user: "alice", password: "pw-alice"))
            let alice = try cluster.client(1, as: nil, token: login.token)
            let node = cluster.node(1)
            node.disableImmediateLinkSendsForTesting()
            _ = try await alice.call(.itemPut, PutItemRequest(item: "tea", name: "Tea", price: Money(minorUnits: 300),
                                                              initialStock: 10, request: Keys.next()))
            _ = try await alice.call(.cartCreate, CreateCartRequest(cart: "ghostly", request: Keys.next()))
            await assertRPCError(.notFound) {
                try await alice.call(.cartShare, ShareCartRequest(cart: "ghostly", users: ["ghost"], request: Keys.next()))
            }
            let partition = try XCTUnwrap(node.placement).partition(of: CartID("ghostly"))
            let shared = try await node.proposeInternal(.shareCart(ShareCart(cart: "ghostly", actor: "alice", users: ["ghost"])),
                                                        partition: partition)
            guard case .accepted = shared else { return XCTFail("\(shared)") }
            _ = try await alice.call(.cartAddItem, AddItemRequest(cart: "ghostly", item: "tea", quantity: 1, request: Keys.next()))
            _ = try await alice.call(.cartCheckout, CheckoutRequest(cart: "ghostly", request: Keys.next()))

            try await eventually(10, "the links are confirmed") {
                await node.replicaState(partition)?.linksPending["ghostly"] == nil
            }
            let cart = try await alice.call(.cartGet, GetCartRequest(cart: "ghostly")).cart
            XCTAssertEqual(cart.sharedUsers, ["ghost"], "a checked-out cart keeps its members")
            let resent = node.metrics.value(.linksResent)
            try await Task.sleep(for: .milliseconds(1_000))
            XCTAssertEqual(node.metrics.value(.linksResent), resent, "nothing is re-sent once confirmed")
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }
}
