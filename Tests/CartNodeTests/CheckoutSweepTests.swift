import CartAPI
import CartDomain
@testable import CartNode
import CartRPC
import CartTestSupport
import CartTypes
import XCTest

/// A checkout whose saga gave up is finished by the cart partition's leader later, without
/// waiting for a leader change.
final class CheckoutSweepTests: XCTestCase {
    // Five nodes, replication 3. The cart's partition lives on three nodes; the item's
    // partition has its majority on the other two. Those two stop, so the item partition has
    // no leader: the checkout's reservation step retries for its window (short here), then
    // the saga gives up into an abort (Saga.md 3b): the client hears why, and the cart is
    // active again instead of closed for as long as the item partition is down. Releasing
    // the stock cannot reach the item partition either, so the checkout stays unsettled. The
    // two nodes come back; the cart partition's leader, which never changed, finds the
    // unsettled checkout in its periodic sweep and finishes it: the stock is released (the
    // reservation, had it been taken, is undone; a late one would find the tombstone) and
    // the checkout settled.
    func testAnUnsettledCheckoutIsResumedByTheSweepWithoutALeaderChange() async throws {
        let scene = try await Scene.start(sagaStepRetryWindowMs: 300)
        let (cluster, cartPartition, doomed, cart, item) = (scene.cluster, scene.cartPartition, scene.doomed, scene.cart, scene.item)
        do {
            let alice = try cluster.client(scene.placement.replicas(of: cartPartition)[0], as: "alice")
            try await scene.fillTheCart(through: alice)
            let cartLeader = try await cluster.leader(of: cartPartition, within: 10)

            for node in doomed { await cluster.stop(node) }
            let refused = await assertRPCError(.failedPrecondition) {
                try await alice.call(.cartCheckout, CheckoutRequest(cart: cart, request: Keys.next()))
            }
            XCTAssertTrue(refused?.message.contains("could not be reserved") == true, "\(String(describing: refused))")
            let aborted = await cluster.node(cartLeader).replicaState(cartPartition)?.carts[cart]
            XCTAssertEqual(aborted?.status, .active, "the cart is open again")
            XCTAssertEqual(aborted?.checkout?.outcome, .aborted)
            XCTAssertEqual(aborted?.checkout?.settled, false)
            // The client's saga gives up on the release too; from then on only the sweep can finish it.
            try await eventually(30, "the client's saga gives up") { cluster.node(cartLeader).services?.sagas.count == 0 }

            for node in doomed { try await cluster.start(node) }
            try await eventually(30, "the sweep finishes the checkout") {
                guard let record = await cluster.node(cartLeader).replicaState(cartPartition)?.carts[cart]?.checkout else { return false }
                return record.outcome == .aborted && record.settled
            }
            // From the node's item cache, which may apply the release a moment after the leader.
            try await eventually(20, "the reservation is released") {
                let released = try await alice.call(.itemGet, GetItemRequest(item: item)).item
                return released.stock == 10 && released.reserved == 0
            }
            // The cart checks out once the item partition is back.
            _ = try await alice.call(.cartCheckout, CheckoutRequest(cart: cart, request: Keys.next()))
            try await eventually(30, "the second checkout sells the stock") {
                let sold = try await alice.call(.itemGet, GetItemRequest(item: item)).item
                return sold.stock == 8 && sold.reserved == 0
            }
            let leaderAfter = await cluster.leader(of: cartPartition)
            XCTAssertEqual(leaderAfter, cartLeader, "the cart partition kept its leader: the sweep, not an election, resumed it")
            XCTAssertGreaterThan(cluster.node(cartLeader).metrics.value(.checkoutsResumed), 0)
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    // The same five nodes. The item partition's majority stops, so the client's checkout keeps
    // retrying its reservation (for up to a minute here) on the cart partition's leader, which
    // then stops too. Its saga ends with it: once the client drain is over and the replicas have
    // stopped, the shutdown cancels the saga and waits for it, so no step of it reaches the
    // node's event loops once they are stopped (a step sent to a stopped loop is never
    // answered, and a debug build traps on the promise it leaks), and it decides nothing on
    // its way out. The checkout stays begun in the log; once the item
    // partition is back, the cart partition's next leader resumes it and completes it.
    func testASagaStillRetryingWhenItsNodeStopsEndsWithItAndTheNextLeaderFinishesIt() async throws {
        let scene = try await Scene.start(sagaStepRetryWindowMs: 60_000)
        let (cluster, cartPartition, doomed, cart) = (scene.cluster, scene.cartPartition, scene.doomed, scene.cart)
        do {
            let cartLeader = try await cluster.leader(of: cartPartition, within: 10)
            let survivor = try XCTUnwrap(scene.placement.replicas(of: cartPartition).first { $0 != cartLeader })
            let alice = try cluster.client(cartLeader, as: "alice")
            try await scene.fillTheCart(through: alice)

            for node in doomed { await cluster.stop(node) }
            let services = try XCTUnwrap(cluster.node(cartLeader).services)
            let checkout = Task { try await alice.call(.cartCheckout, CheckoutRequest(cart: cart, request: Keys.next())) }
            try await eventually(20, "the checkout's saga runs") { services.sagaRuns.count > 0 }
            try await Task.sleep(for: .milliseconds(300))  // a few reservation attempts
            await cluster.stop(cartLeader)
            XCTAssertEqual(services.sagaRuns.count, 0, "the saga ended with its node")
            XCTAssertEqual(services.sagas.count, 0)
            if case .success = await checkout.result { XCTFail("a checkout whose node stopped mid-saga succeeded") }
            // Longer than a step's longest retry pause: a step still retrying would run now.
            try await Task.sleep(for: .milliseconds(1_500))

            for node in doomed { try await cluster.start(node) }
            try await eventually(60, "the cart partition's next leader completes and settles the checkout") {
                guard let record = await cluster.node(survivor).replicaState(cartPartition)?.carts[cart]?.checkout else { return false }
                return record.outcome == .completed && record.settled
            }
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    /// Five started nodes (replication 3), a cart and an item in partitions apart, and the two
    /// nodes outside the cart's partition that hold a majority of the item's.
    private struct Scene {
        let cluster: TestCluster
        let placement: Placement
        let cartPartition: PartitionID
        let doomed: [NodeID]
        let cart: CartID
        let item: ItemID

        static func start(sagaStepRetryWindowMs: Int64) async throws -> Scene {
            let cluster = try TestCluster(size: 5, partitions: 8) { configuration in
                configuration.sagaStepRetryWindowMs = sagaStepRetryWindowMs
                configuration.checkoutSweepIntervalMs = 200
                // 1 s: five nodes share the machine's cores, and a loop stalled for an election
                // timeout would move the cart partition's leader, which these tests rule out.
                configuration.electionTimeoutTicks = 50
            }
            do {
                try await cluster.startAll()
                try await cluster.waitForLeaders()
                let placement = try XCTUnwrap(cluster.node(1).placement)
                let (cartPartition, itemPartition, doomed) = try partitions(placement, nodes: (1...5).map { NodeID(UInt64($0)) })
                let cart = CartID(try name(prefix: "cart", in: cartPartition) { placement.partition(of: CartID($0)) })
                let item = ItemID(try name(prefix: "item", in: itemPartition) { placement.partition(of: ItemID($0)) })
                return Scene(cluster: cluster, placement: placement, cartPartition: cartPartition, doomed: doomed, cart: cart, item: item)
            } catch {
                await cluster.shutdown()
                throw error
            }
        }

        /// Ten of the item in stock, and two of them in the cart.
        func fillTheCart(through client: RPCClient) async throws {
            _ = try await client.call(.itemPut, PutItemRequest(item: item, name: "beans", price: Money(minorUnits: 100),
                                                               initialStock: 10, request: Keys.next()))
            _ = try await client.call(.cartCreate, CreateCartRequest(cart: cart, request: Keys.next()))
            _ = try await client.call(.cartAddItem, AddItemRequest(cart: cart, item: item, quantity: 2, request: Keys.next()))
        }
    }

    /// A cart partition, an item partition and the two nodes outside the cart partition
    /// that hold a majority of the item partition.
    private static func partitions(_ placement: Placement, nodes: [NodeID]) throws -> (PartitionID, PartitionID, [NodeID]) {
        for cartPartition in placement.partitions {
            let outside = nodes.filter { !placement.replicas(of: cartPartition).contains($0) }
            for itemPartition in placement.partitions where itemPartition != cartPartition {
                let replicas = placement.replicas(of: itemPartition)
                if outside.count == 2 && outside.allSatisfy(replicas.contains) { return (cartPartition, itemPartition, outside) }
            }
        }
        throw TestFailure("no partition pair fits the scenario")
    }

    private static func name(prefix: String, in partition: PartitionID, _ partitionOf: (String) -> PartitionID) throws -> String {
        for i in 0..<10_000 {
            let candidate = "\(prefix)-\(i)"
            if partitionOf(candidate) == partition { return candidate }
        }
        throw TestFailure("no \(prefix) name lands in \(partition)")
    }
}

/// The id a client's checkout gets: the same for every retry, different for every cart.
final class CheckoutIDTests: XCTestCase {
    func testACheckoutIDIsStablePerRequestAndDistinctPerCartAndKey() throws {
        let key = RequestKey(client: ClientID(UInt64.max), request: RequestID(UInt64.max))
        let longCart = CartID(String(repeating: "c", count: CartID.bytesMax))
        let id = NodeServices.checkoutID(cart: longCart, request: key)
        XCTAssertEqual(id, NodeServices.checkoutID(cart: longCart, request: key), "a retry must find its checkout")
        XCTAssertLessThanOrEqual(id.rawValue.utf8.count, CheckoutID.bytesMax, "the longest inputs still make a valid id")
        var seen: Set<CheckoutID> = [id]
        for cart in ["a", "b", "ab"] {
            for (client, request) in [(UInt64(1), UInt64(2)), (2, 1), (12, 1), (1, 21)] {
                seen.insert(NodeServices.checkoutID(cart: CartID(cart), request: RequestKey(client: ClientID(client), request: RequestID(request))))
            }
        }
        XCTAssertEqual(seen.count, 13, "every cart and key gets its own id")
    }
}

/// An abort reason the coordinator writes must fit the domain's limit, or the abort itself
/// would be refused and the cart left checking out.
final class AbortReasonTests: XCTestCase {
    func testALongReasonIsCutToTheLimitAtACharacterBoundary() {
        let limit = DomainLimits.standard.reasonBytesMax
        XCTAssertEqual(NodeServices.fitted("short"), "short")
        let long = String(repeating: "é", count: limit)  // two bytes each
        let fitted = NodeServices.fitted(long)
        XCTAssertLessThanOrEqual(fitted.utf8.count, limit)
        XCTAssertGreaterThanOrEqual(fitted.utf8.count, limit - 1)
        XCTAssertTrue(long.hasPrefix(fitted))
        // A cart checking out: the unfitted reason is refused, the fitted one aborts it.
        var state = PartitionState()
        let now = Timestamp(millisecondsSinceEpoch: 1)
        for command: Command in [
            .createCart(CreateCart(cart: "c", owner: "alice")),
            .addItem(AddItem(cart: "c", actor: "alice", item: "tea", quantity: 1, unitPrice: Money(minorUnits: 100))),
            .beginCheckout(BeginCheckout(cart: "c", actor: "alice", checkout: "x")),
        ] {
            XCTAssertNoThrow(try state.apply(command, at: now).get())
        }
        guard case .failure(.invalidArgument) = state.apply(.abortCheckout(AbortCheckout(cart: "c", checkout: "x", reason: long)), at: now) else {
            return XCTFail("the unfitted reason should be refused")
        }
        XCTAssertNoThrow(try state.apply(.abortCheckout(AbortCheckout(cart: "c", checkout: "x", reason: fitted)), at: now).get())
    }
}
