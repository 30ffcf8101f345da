import CartAPI
import CartDomain
@testable import CartNode
import CartRaft
import CartRPC
import CartStorage
import CartTestSupport
import CartTypes
import CartWire
import XCTest

/// Three nodes in this process, replication factor 3, real TLS and real disks.
final class ClusterTests: XCTestCase {
    private func withCluster(snapshotIntervalEntries: UInt64 = 20_000,
                             tweak: (inout NodeConfiguration) -> Void = { _ in },
                             _ body: (TestCluster) async throws -> Void) async throws {
        let cluster = try TestCluster(size: 3, snapshotIntervalEntries: snapshotIntervalEntries, tweak: tweak)
        do {
            try await cluster.startAll()
            try await cluster.waitForLeaders()
            try await body(cluster)
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    private func putItem(_ client: RPCClient, _ item: ItemID, stock: Int64, price: Int64 = 100) async throws {
        _ = try await client.call(.itemPut, PutItemRequest(item: item, name: "\(item)", price: Money(minorUnits: price),
                                                           initialStock: stock, request: Keys.next()))
    }

    // Three fresh nodes elect a leader for every partition. Writes sent to any node (most
    // are forwarded to the partition's leader) are readable through every node, and every
    // replica holds the same per-cart history.
    func testWritesThroughAnyNodeAreReadBackFromEveryNode() async throws {
        try await withCluster { cluster in
            let clients = try (1...3).map { try cluster.client(NodeID(UInt64($0)), as: "alice") }
            try await putItem(clients[0], "sku-1", stock: 1_000)
            for i in 0..<6 {
                _ = try await clients[i % 3].call(.cartCreate, CreateCartRequest(cart: CartID("cart-\(i)"), request: Keys.next()))
            }
            for round in 0..<3 {
                for i in 0..<6 {
                    let reply = try await clients[(i + round) % 3].call(
                        .cartAddItem, AddItemRequest(cart: CartID("cart-\(i)"), item: "sku-1", quantity: 1, request: Keys.next()))
                    XCTAssertEqual(reply.version, Version(UInt64(round + 2)))
                    XCTAssertNotNil(reply.leaderHint)
                }
            }
            for client in clients {
                for i in 0..<6 {
                    let cart = try await client.call(.cartGet, GetCartRequest(cart: CartID("cart-\(i)"))).cart
                    XCTAssertEqual(cart.line(for: "sku-1")?.quantity, 3)
                }
            }
            try await assertReplicasAgree(cluster, carts: (0..<6).map { CartID("cart-\($0)") }, nodes: [1, 2, 3])
        }
    }

    // Writes keep coming while the node leading the cart's partition stops. The other two
    // elect a new leader; every acknowledged add is in the cart afterwards, and the watch
    // stream (resumed from its last seq if its node ends it during the election) and every
    // surviving replica hold the same events in the same order.
    func testStoppingThePartitionLeaderLosesNoAcknowledgedWrite() async throws {
        try await withCluster { cluster in
            let cart: CartID = "failover-cart"
            let partition = cluster.node(1).placement!.partition(of: cart)
            let victim = try await cluster.leader(of: partition, within: 10)
            let survivors = [NodeID(1), NodeID(2), NodeID(3)].filter { $0 != victim }
            let writer = try cluster.client(survivors[0], as: "alice")
            let watcherClient = try cluster.client(survivors[1], as: "alice")
            try await putItem(writer, "sku-f", stock: 10_000)
            _ = try await writer.call(.cartCreate, CreateCartRequest(cart: cart, request: Keys.next()))
            let stream = try await watcherClient.stream(.syncWatch, WatchRequest(cart: cart, fromSeq: 0))

            var acknowledged = 0
            for i in 0..<40 {
                if i == 15 { await cluster.stop(victim) }
                let key = Keys.next()
                // A client retries with the same key until it gets an answer (bounded).
                var answered = false
                for _ in 0..<20 where !answered {
                    do {
                        _ = try await writer.call(.cartAddItem, AddItemRequest(cart: cart, item: "sku-f", quantity: 1, request: key))
                        answered = true
                    } catch let error as RPCError where error.isRetryable {
                        try await Task.sleep(for: .milliseconds(100))
                    }
                }
                XCTAssertTrue(answered, "add \(i) was never acknowledged")
                acknowledged += 1
            }
            let cartNow = try await writer.call(.cartGet, GetCartRequest(cart: cart)).cart
            XCTAssertEqual(cartNow.line(for: "sku-f")?.quantity, Int64(acknowledged))
            let events = try await collectResuming(stream, client: watcherClient, cart: cart, count: 1 + acknowledged)
            XCTAssertEqual(events.map(\.seq), (1...UInt64(1 + acknowledged)).map { Seq($0) })
            try await assertReplicasAgree(cluster, carts: [cart], nodes: survivors)
        }
    }

    // A node stops while its peers take 60 more writes and compact their logs behind
    // snapshots every 20 entries. Restarted from its data directory, it catches up by
    // installing the leader's snapshot, sent in 512-byte pieces, and ends with the same
    // carts as the others.
    func testRestartedNodeCatchesUpBySnapshotWhenBehindCompaction() async throws {
        try await withCluster(snapshotIntervalEntries: 20, tweak: { $0.snapshotChunkBytes = 512 }) { cluster in
            let alice = try cluster.client(1, as: "alice")
            try await putItem(alice, "sku-s", stock: 10_000)
            _ = try await alice.call(.cartCreate, CreateCartRequest(cart: "snap-cart", request: Keys.next()))
            await cluster.stop(3)
            for _ in 0..<60 {
                _ = try await alice.call(.cartAddItem, AddItemRequest(cart: "snap-cart", item: "sku-s", quantity: 1, request: Keys.next()))
            }
            try await cluster.start(3)
            let partition = cluster.node(1).placement!.partition(of: CartID("snap-cart"))
            try await eventually(20, "node 3 catches up") {
                let state = await cluster.node(3).replicaState(partition)
                return state?.carts["snap-cart"]?.line(for: "sku-s")?.quantity == 60
            }
            let status = await cluster.node(3).partitionStatuses().first { $0.partition == partition }
            XCTAssertGreaterThan(status?.snapshotIndex ?? .zero, .zero, "the lagging node should have installed a snapshot")
            let received = cluster.node(3).metrics
            XCTAssertGreaterThan(received.value(.raftSnapshotsReceived), 0)
            XCTAssertGreaterThan(received.value(.raftSnapshotChunksReceived), received.value(.raftSnapshotsReceived),
                                 "the snapshots came in several pieces")
            XCTAssertGreaterThan(received.value(.snapshotsDecodedOffLoop), 0, "the state was decoded off the replica's loop")
            try await assertReplicasAgree(cluster, carts: ["snap-cart"], nodes: [1, 2, 3])
        }
    }

    // A follower installing the leader's snapshot saves it, then resets its log. Here a
    // crash between the two is staged: while node 3 is stopped, another node's snapshot
    // (newer than node 3's log) is saved into node 3's files without the reset. Then the
    // leader stops, so that node leads when node 3 is back; it probes node 3, hears its log
    // ends at the snapshot, and sends the entries after it. Node 3 finishes the reset at
    // start, takes them, and ends with the same carts as the others (before, its log
    // refused the first entry after the gap and the replica stopped at every restart).
    func testARestartFinishesASnapshotInstallThatACrashInterrupted() async throws {
        try await withCluster(snapshotIntervalEntries: 20) { cluster in
            await cluster.stop(3)
            try await cluster.waitForLeaders()
            let statuses = await cluster.node(1).partitionStatuses()
            let partition = try XCTUnwrap(statuses.first?.partition)
            let leader = try XCTUnwrap(statuses.first?.leader)
            let heir: NodeID = leader == 1 ? 2 : 1
            let client = try cluster.client(heir, as: "alice")
            try await putItem(client, "sku-i", stock: 10_000)
            let cart = try cart(in: partition, placement: XCTUnwrap(cluster.node(1).placement))
            _ = try await client.call(.cartCreate, CreateCartRequest(cart: cart, request: Keys.next()))
            for _ in 0..<60 {
                _ = try await client.call(.cartAddItem, AddItemRequest(cart: cart, item: "sku-i", quantity: 1, request: Keys.next()))
            }
            let source = try XCTUnwrap(cluster.node(heir).replica(partition))
            try await eventually(20, "node \(heir) snapshots") {
                try await source.loop.submit { source.storage.snapshotMetadata.index > .zero }.get()
            }
            let snapshot = try await source.loop.submit { try source.storage.snapshot() }.get()

            let data = cluster.configuration(3).dataDirectory
            let journal = try NodeJournal.open(directory: data + "/journal", options: .init(syncPolicy: .fsyncPerBatch))
            let log = try PartitionLog.open(directory: data + "/partition-\(partition.rawValue)", partition: partition,
                                            options: PartitionLogOptions(), journal: journal)
            XCTAssertLessThan(log.lastIndex, snapshot.metadata.index, "node 3's log ends before the snapshot")
            try log.snapshots.save(CartStorage.Snapshot(lastIndex: snapshot.metadata.index, term: snapshot.metadata.term,
                                                        data: snapshot.data))
            try log.close()
            journal.close()

            await cluster.stop(leader)
            try await cluster.start(3)
            // The heir hears no majority until node 3 is back and elected with it: until then
            // it refuses at once (`unavailable`), and the add is sent again with its key.
            for _ in 0..<5 {
                let add = AddItemRequest(cart: cart, item: "sku-i", quantity: 1, request: Keys.next())
                try await eventually(20, "an add through node \(heir) once node 3 is back") {
                    (try? await client.call(.cartAddItem, add)) != nil
                }
            }
            try await eventually(20, "node 3 catches up") {
                let state = await cluster.node(3).replicaState(partition)
                return state?.carts[cart]?.line(for: "sku-i")?.quantity == 65
            }
            try await assertReplicasAgree(cluster, carts: [cart], nodes: [heir, 3])
        }
    }

    /// A cart id that `placement` puts in `partition`.
    private func cart(in partition: PartitionID, placement: Placement) throws -> CartID {
        for i in 0..<10_000 where placement.partition(of: CartID("crash-cart-\(i)")) == partition {
            return CartID("crash-cart-\(i)")
        }
        throw TestFailure("no cart id lands in \(partition)")
    }

    // Alice shares her cart with bob; bob watches it through another node. Alice's adds
    // reach bob in order. Bob's connection drops after a few events; he watches again
    // from the last seq he saw + 1 and receives the rest with no gap and no duplicate.
    func testSharedCartWatchSurvivesReconnectWithoutGapOrDuplicate() async throws {
        try await withCluster { cluster in
            let alice = try cluster.client(1, as: "alice")
            try await putItem(alice, "sku-w", stock: 10_000)
            _ = try await alice.call(.cartCreate, CreateCartRequest(cart: "shared", request: Keys.next()))
            _ = try await alice.call(.cartShare, ShareCartRequest(cart: "shared", users: ["bob"], request: Keys.next()))
            let bobFirst = try cluster.client(2, as: "bob")
            let firstStream = try await bobFirst.stream(.syncWatch, WatchRequest(cart: "shared", fromSeq: 0))
            for _ in 0..<5 {
                _ = try await alice.call(.cartAddItem, AddItemRequest(cart: "shared", item: "sku-w", quantity: 1, request: Keys.next()))
            }
            let before = try await collect(firstStream, count: 5)
            await bobFirst.shutdown()
            for _ in 0..<5 {
                _ = try await alice.call(.cartAddItem, AddItemRequest(cart: "shared", item: "sku-w", quantity: 1, request: Keys.next()))
            }
            let bobAgain = try cluster.client(3, as: "bob")
            let resumed = try await bobAgain.stream(.syncWatch, WatchRequest(cart: "shared", fromSeq: before.last!.seq.next))
            let after = try await collect(resumed, count: 7)
            let seqs = (before + after).map(\.seq.rawValue)
            XCTAssertEqual(seqs, Array(1...12))
            XCTAssertEqual(after.filter { $0.change.name == "CartItemAdded" }.count, 7)
            if case .itemAdded(let added) = after.last?.change { XCTAssertEqual(added.actor, "alice") }
        }
    }

    // Checkout reserves stock on the items' partitions. With enough stock it completes and
    // stock drops; when one item is short (its stock fell after it was added) nothing is
    // reserved, the answer names the item, and the cart is active again.
    func testCheckoutReservesStockAndCompensatesWhenOneItemIsShort() async throws {
        try await withCluster { cluster in
            let alice = try cluster.client(2, as: "alice")
            try await putItem(alice, "plenty", stock: 100)
            try await putItem(alice, "scarce", stock: 2)
            _ = try await alice.call(.cartCreate, CreateCartRequest(cart: "co-ok", request: Keys.next()))
            _ = try await alice.call(.cartAddItem, AddItemRequest(cart: "co-ok", item: "plenty", quantity: 3, request: Keys.next()))
            let okKey = Keys.next()
            let done = try await alice.call(.cartCheckout, CheckoutRequest(cart: "co-ok", request: okKey))
            XCTAssertEqual(done.total, Money(minorUnits: 300))
            try await eventually(10, "stock of plenty drops to 97") {
                try await alice.call(.itemGet, GetItemRequest(item: "plenty")).item.stock == 97
            }

            // A client that reuses a checkout's request key on another cart (in another
            // partition, so no dedup window answers for it) checks that cart out for real:
            // the item partitions must not take it for the first checkout, already sold.
            let placement = try XCTUnwrap(cluster.node(1).placement)
            let other = try XCTUnwrap((1...64).map { CartID("co-reuse-\($0)") }
                .first { placement.partition(of: $0) != placement.partition(of: CartID("co-ok")) })
            _ = try await alice.call(.cartCreate, CreateCartRequest(cart: other, request: Keys.next()))
            _ = try await alice.call(.cartAddItem, AddItemRequest(cart: other, item: "plenty", quantity: 5, request: Keys.next()))
            _ = try await alice.call(.cartCheckout, CheckoutRequest(cart: other, request: okKey))
            try await eventually(10, "the second checkout takes its own stock: plenty drops to 92") {
                let plenty = try await alice.call(.itemGet, GetItemRequest(item: "plenty")).item
                return plenty.stock == 92 && plenty.reserved == 0
            }

            _ = try await alice.call(.cartCreate, CreateCartRequest(cart: "co-short", request: Keys.next()))
            _ = try await alice.call(.cartAddItem, AddItemRequest(cart: "co-short", item: "plenty", quantity: 2, request: Keys.next()))
            _ = try await alice.call(.cartAddItem, AddItemRequest(cart: "co-short", item: "scarce", quantity: 2, request: Keys.next()))
            _ = try await alice.call(.itemAdjustStock, AdjustStockRequest(item: "scarce", delta: -1, request: Keys.next()))
            let shortKey = Keys.next()
            let refused = await assertRPCError(.failedPrecondition) {
                try await alice.call(.cartCheckout, CheckoutRequest(cart: "co-short", request: shortKey))
            }
            XCTAssertTrue(refused?.message.contains("scarce") == true, "\(String(describing: refused))")
            try await eventually(10, "the short checkout is settled and its reservation released") {
                let cart = try await alice.call(.cartGet, GetCartRequest(cart: "co-short")).cart
                let plenty = try await alice.call(.itemGet, GetItemRequest(item: "plenty")).item
                return cart.status == .active && cart.checkout?.settled == true && plenty.stock == 92 && plenty.reserved == 0
            }
            let scarce = try await alice.call(.itemGet, GetItemRequest(item: "scarce")).item
            XCTAssertEqual(scarce.stock, 1)
            // A retry of the aborted checkout (its answer lost, say) is told it was aborted.
            await assertRPCError(.failedPrecondition) {
                try await alice.call(.cartCheckout, CheckoutRequest(cart: "co-short", request: shortKey))
            }
        }
    }

    // Twenty carts, each holding one of the item's five units, check out at once through
    // the three nodes. Exactly five checkouts complete; the other fifteen are refused naming
    // the item, with nothing of theirs reserved, and their carts are active again. The stock
    // ends at zero with nothing held: it never went negative, and no unit was sold twice.
    func testConcurrentCheckoutsOfTheLastUnitsSellEachUnitOnce() async throws {
        try await withCluster { cluster in
            let clients = try (1...3).map { try cluster.client(NodeID(UInt64($0)), as: "alice") }
            try await putItem(clients[0], "last", stock: 5)
            let carts = (0..<20).map { CartID("race-\($0)") }
            for (n, cart) in carts.enumerated() {
                let client = clients[n % 3]
                _ = try await client.call(.cartCreate, CreateCartRequest(cart: cart, request: Keys.next()))
                _ = try await client.call(.cartAddItem, AddItemRequest(cart: cart, item: "last", quantity: 1, request: Keys.next()))
            }
            let outcomes = await withTaskGroup(of: (CartID, Result<CheckoutReply, RPCError>).self) { group in
                for (n, cart) in carts.enumerated() {
                    let client = clients[n % 3]
                    group.addTask {
                        do {
                            return (cart, .success(try await client.call(.cartCheckout, CheckoutRequest(cart: cart, request: Keys.next()))))
                        } catch let error as RPCError {
                            return (cart, .failure(error))
                        } catch {
                            return (cart, .failure(RPCError(.internal, "\(error)")))
                        }
                    }
                }
                var outcomes: [CartID: Result<CheckoutReply, RPCError>] = [:]
                for await (cart, outcome) in group { outcomes[cart] = outcome }
                return outcomes
            }
            let sold = outcomes.filter { if case .success = $0.value { true } else { false } }.keys.sorted()
            XCTAssertEqual(sold.count, 5, "one checkout per unit: \(outcomes)")
            for (cart, outcome) in outcomes {
                guard case .failure(let error) = outcome else { continue }
                XCTAssertEqual(error.code, .failedPrecondition, "\(cart): \(error)")
                XCTAssertTrue(error.message.contains("insufficient stock for last"), "\(cart): \(error)")
            }
            try await eventually(20, "every refused checkout is settled, its cart active again, and nothing is held") {
                let item = try await clients[1].call(.itemGet, GetItemRequest(item: "last")).item
                guard item.stock == 0, item.reserved == 0 else { return false }
                for cart in carts {
                    let state = try await clients[2].call(.cartGet, GetCartRequest(cart: cart)).cart
                    let expected: CartStatus = sold.contains(cart) ? .checkedOut : .active
                    guard state.status == expected, state.checkout?.settled == true else { return false }
                }
                return true
            }
        }
    }

    // A line may not grow beyond the units of its item that can still be reserved: alice's
    // additions and quantity changes past the stock are refused before the log, naming the
    // item and what is available, and change nothing. Asked through a node that forwards to
    // the cart's leader, which checks against its copy of the item. Once the stock falls
    // below what the line holds, the line keeps its units and may shrink but not grow; a
    // retry of an addition made before is answered as the first time; carol, who may not
    // touch the cart, is told so rather than anything of the stock.
    func testALineMayNotGrowBeyondTheItemsStock() async throws {
        try await withCluster { cluster in
            let (_, _, front, _, cart) = try await cluster.cartLedElsewhere(named: "avail")
            let alice = try cluster.client(front, as: "alice")
            let carol = try cluster.client(front, as: "carol")
            try await putItem(alice, "rare", stock: 3)
            _ = try await alice.call(.cartAddItem, AddItemRequest(cart: cart, item: "rare", quantity: 2, request: Keys.next()))
            let line: @Sendable () async throws -> Int64? = {
                try await alice.call(.cartGet, GetCartRequest(cart: cart)).cart.line(for: "rare")?.quantity
            }

            let tooMany = await assertRPCError(.failedPrecondition) {
                try await alice.call(.cartAddItem, AddItemRequest(cart: cart, item: "rare", quantity: 2, request: Keys.next()))
            }
            XCTAssertEqual(tooMany?.message, "[10] insufficient stock for rare: 3 available")
            await assertRPCError(.failedPrecondition) {
                try await alice.call(.cartSetQuantity, SetQuantityRequest(cart: cart, item: "rare", quantity: 4, request: Keys.next()))
            }
            await assertRPCError(.permissionDenied) {
                try await carol.call(.cartAddItem, AddItemRequest(cart: cart, item: "rare", quantity: 5, request: Keys.next()))
            }
            let atTwo = try await line()
            XCTAssertEqual(atTwo, 2, "refusals change nothing")

            let lastUnit = Keys.next()
            let first = try await alice.call(.cartAddItem, AddItemRequest(cart: cart, item: "rare", quantity: 1, request: lastUnit))
            _ = try await alice.call(.cartSetQuantity, SetQuantityRequest(cart: cart, item: "rare", quantity: 3, request: Keys.next()))

            // Two units are sold elsewhere: the line holds 3 of the 1 left.
            _ = try await alice.call(.itemAdjustStock, AdjustStockRequest(item: "rare", delta: -2, request: Keys.next()))
            try await eventuallyRefused(10, "the cart's leader sees the lower stock") {
                try await alice.call(.cartAddItem, AddItemRequest(cart: cart, item: "rare", quantity: 1, request: Keys.next()))
            } matching: { $0.message == "[10] insufficient stock for rare: 1 available" }
            let retried = try await alice.call(.cartAddItem, AddItemRequest(cart: cart, item: "rare", quantity: 1, request: lastUnit))
            XCTAssertEqual(retried, first, "a retry gets its first answer")
            _ = try await alice.call(.cartSetQuantity, SetQuantityRequest(cart: cart, item: "rare", quantity: 3, request: Keys.next()))
            _ = try await alice.call(.cartSetQuantity, SetQuantityRequest(cart: cart, item: "rare", quantity: 2, request: Keys.next()))
            let atLast = try await line()
            XCTAssertEqual(atLast, 2, "a line above the stock may stay and shrink")
            await assertRPCError(.failedPrecondition) {
                try await alice.call(.cartSetQuantity, SetQuantityRequest(cart: cart, item: "rare", quantity: 3, request: Keys.next()))
            }
            let refusals = [NodeID(1), NodeID(2), NodeID(3)].map { cluster.node($0).metrics.value(.availabilityRefusals) }
            XCTAssertGreaterThanOrEqual(refusals.reduce(0, +), 4, "counted where they were refused")
        }
    }

    // MARK: Helpers

    /// Every listed node's replica holds the same history for each cart (after catching up).
    private func assertReplicasAgree(_ cluster: TestCluster, carts: [CartID], nodes: [NodeID],
                                     file: StaticString = #filePath, line: UInt = #line) async throws {
        for cart in carts {
            let partition = cluster.node(nodes[0]).placement!.partition(of: cart)
            try await eventually(20, "replicas of \(cart) agree") {
                var histories: [[CartEvent]] = []
                for node in nodes {
                    guard let state = await cluster.node(node).replicaState(partition) else { return false }
                    histories.append(state.histories[cart]?.events ?? [])
                }
                return Set(histories.map { $0.map(\.seq) }).count == 1 && Set(histories).count == 1 && !histories[0].isEmpty
            }
        }
    }
}

/// Checkouts whose coordinator disappears are finished by the next leader.
final class SagaRecoveryTests: XCTestCase {
    // A checkout's first step (BeginCheckout) is in the cart partition's log, but its
    // coordinator stops before reserving anything. The node that takes over the partition
    // finds the unsettled checkout and completes it: stock is reserved and sold, the cart
    // is checked out and its checkout settled.
    func testNewLeaderFinishesACheckoutItsPredecessorStarted() async throws {
        let cluster = try TestCluster(size: 3)
        do {
            try await cluster.startAll()
            try await cluster.waitForLeaders()
            let cart: CartID = "interrupted"
            let partition = cluster.node(1).placement!.partition(of: cart)
            var leader: NodeID?
            for _ in 0..<500 where leader == nil {
                leader = await cluster.leader(of: partition)
                if leader == nil { try await Task.sleep(for: .milliseconds(20)) }
            }
            let victim = try XCTUnwrap(leader)
            let survivor = [NodeID(1), NodeID(2), NodeID(3)].first { $0 != victim }!
            let alice = try cluster.client(survivor, as: "alice")
            _ = try await alice.call(.itemPut, PutItemRequest(item: "gift", name: "Gift", price: Money(minorUnits: 500),
                                                              initialStock: 10, request: Keys.next()))
            _ = try await alice.call(.cartCreate, CreateCartRequest(cart: cart, request: Keys.next()))
            _ = try await alice.call(.cartAddItem, AddItemRequest(cart: cart, item: "gift", quantity: 4, request: Keys.next()))
            // Step 1 only, as if the coordinator crashed right after it.
            let begun = try await cluster.node(victim).proposeInternal(
                .beginCheckout(BeginCheckout(cart: cart, actor: "alice", checkout: "co-interrupted")), partition: partition)
            guard case .accepted = begun else { return XCTFail("BeginCheckout refused: \(begun)") }
            await cluster.stop(victim)
            try await eventually(20, "the new leader completes and settles the checkout") {
                guard let cart = try? await alice.call(.cartGet, GetCartRequest(cart: cart)).cart else { return false }
                return cart.status == .checkedOut && cart.checkout?.settled == true
            }
            // Item reads come from the node's item cache, which follows its own replica of
            // the item's partition: it may apply the reservation's commit a moment later.
            try await eventually(20, "the stock is sold and nothing stays reserved") {
                let item = try await alice.call(.itemGet, GetItemRequest(item: "gift")).item
                return item.stock == 6 && item.reserved == 0
            }
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }
}
