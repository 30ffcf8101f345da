import CartAPI
import CartDomain
@testable import CartNode
import CartRPC
@testable import CartStorage
import CartTestSupport
import CartTypes
import CartWire
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
    // front node loses its leader, but a local read there is answered at once from its copy,
    // which stops at what it had applied (a write made since through the third node is not
    // in it). After three election timeouts without a leader it refuses local reads, naming
    // another replica; a linearizable read there is refused too. Once the path resumes, its
    // copy catches up and it answers again.
    func testAFollowerCutFromItsLeaderAnswersLocalReadsForABoundedTime() async throws {
        // Election timeouts of 1 s: three of them leave time to read the stale copy.
        try await ProxiedPaths.withCluster(size: 3, partitions: 4, tweak: { $0.electionTimeoutTicks = 50 }) { cluster, proxies in
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
            let stale = try await viaFront.call(.cartGet, GetCartRequest(cart: cart, local: true))
            XCTAssertEqual(stale.cart.seq, before.seq, "the copy ends where node \(front) stopped applying (\(during.seq) since)")
            XCTAssertEqual(stale.servedBy?.leader, NodeID.none)
            let page = try await viaFront.call(.cartEvents, CartEventsRequest(cart: cart, fromSeq: 1, local: true))
            XCTAssertEqual(page.events.last?.seq, before.seq)

            let refusal = try await eventuallyRefused(15, "node \(front) refuses local reads after three election timeouts without a leader",
                                                      answersFirst: true) {
                try await viaFront.call(.cartGet, GetCartRequest(cart: cart, local: true))
            } matching: { $0.code == .unavailable }
            XCTAssertTrue(refusal.message.contains("known no leader for three election timeouts"), "\(refusal)")
            let hinted = try XCTUnwrap(refusal.leaderHint?.nodeID, "the refusal names another replica")
            XCTAssertTrue([leader, third].contains(hinted), "hint \(hinted)")
            do {
                _ = try await viaFront.call(.cartGet, GetCartRequest(cart: cart))
                XCTFail("a linearizable read at node \(front) was answered without its leader")
            } catch let error as RPCError {
                XCTAssertTrue([ErrorCode.notLeader, .unavailable].contains(error.code), "\(error)")
            }

            proxies[front, leader].release()
            proxies[leader, front].release()
            try await eventually(20, "node \(front)'s copy catches up once the path resumes") {
                (try? await viaFront.call(.cartGet, GetCartRequest(cart: cart, local: true)).cart.seq) == during.seq
            }
        }
    }

    // The three nodes stop; node 1 starts again alone. Its disk holds the cart, but with no
    // peer it finds no leader, so it refuses local reads rather than serve a copy of unknown
    // age. Once its peers are back and it knows a leader, it serves its copy again.
    func testANodeThatHasKnownNoLeaderSinceItStartedRefusesLocalReads() async throws {
        let cluster = try TestCluster(size: 3, partitions: 4)
        do {
            try await cluster.startAll()
            try await cluster.waitForLeaders()
            let alice = try cluster.client(1, as: "alice")
            _ = try await alice.call(.itemPut, PutItemRequest(item: "tea", name: "Tea", price: Money(minorUnits: 300),
                                                              initialStock: 100, request: Keys.next()))
            let cart = CartID("alone")
            _ = try await alice.call(.cartCreate, CreateCartRequest(cart: cart, request: Keys.next()))
            let added = try await alice.call(.cartAddItem, AddItemRequest(cart: cart, item: "tea", quantity: 2, request: Keys.next()))
            try await eventually(10, "node 1 applied the add") {
                try await alice.call(.cartGet, GetCartRequest(cart: cart, local: true)).cart.seq == added.seq
            }
            for id in [NodeID(1), NodeID(2), NodeID(3)] { await cluster.stop(id) }

            try await cluster.start(1)
            let again = try cluster.client(1, as: "alice")
            let refused = await assertRPCError(.unavailable) { try await again.call(.cartGet, GetCartRequest(cart: cart, local: true)) }
            XCTAssertTrue(refused?.message.contains("since the node started") ?? false, "\(String(describing: refused))")

            try await cluster.start(2)
            try await cluster.start(3)
            try await eventually(20, "node 1 serves its copy once it knows a leader") {
                (try? await again.call(.cartGet, GetCartRequest(cart: cart, local: true)).cart.seq) == added.seq
            }
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    // A follower ("front") restarts while its peers serve, but what it sends its partition's
    // leader waits on the way (the leader's messages reach it). It knows the leader from its
    // heartbeats, and its disk holds the cart, yet it refuses local reads until the read
    // barrier it asks the leader once it knows one has come back: its copy may lack what was
    // written while it was down. Once the path resumes, it serves its copy, caught up.
    func testARestartedReplicaHearingItsLeaderRefusesLocalReadsUntilItsBarrierReturns() async throws {
        try await ProxiedPaths.withCluster(size: 3, partitions: 4) { cluster, proxies in
            let (partition, leader, front, third, cart) = try await cluster.cartLedElsewhere(named: "local-restart")
            let viaThird = try cluster.client(third, as: "alice")
            let before = try await viaThird.call(.cartAddItem, AddItemRequest(cart: cart, item: "sku-c", quantity: 1, request: Keys.next()))
            let viaFront = try cluster.client(front, as: "alice")
            try await eventually(10, "node \(front) applied the add") {
                try await viaFront.call(.cartGet, GetCartRequest(cart: cart, local: true)).cart.seq == before.seq
            }
            await cluster.stop(front)
            let during = try await viaThird.call(.cartAddItem, AddItemRequest(cart: cart, item: "sku-c", quantity: 1, request: Keys.next()))

            proxies[front, leader].hold()
            try await cluster.start(front)
            let again = try cluster.client(front, as: "alice")
            try await eventually(15, "node \(front) hears its leader of \(partition)") {
                await cluster.node(front).partitionStatuses().first { $0.partition == partition }?.leader == leader
            }
            let refusal = await assertRPCError(.unavailable) { try await again.call(.cartGet, GetCartRequest(cart: cart, local: true)) }
            XCTAssertTrue(refusal?.message.contains("has not caught up with a leader since the node started") ?? false,
                          "\(String(describing: refusal))")

            proxies[front, leader].release()
            try await eventually(20, "node \(front) serves its copy once its barrier returns") {
                (try? await again.call(.cartGet, GetCartRequest(cart: cart, local: true)).cart.seq) == during.seq
            }
        }
    }

    // A follower whose disk stops returning syncs still hears its leader, but cannot apply
    // what the leader commits meanwhile with the third node. It answers local reads from its
    // stale copy until what it knew committed three election timeouts ago is still not
    // applied, then refuses them, naming another replica. Once its disk returns, it catches
    // up and serves again.
    func testAFollowerThatCannotApplyRefusesLocalReadsOnceItFallsThreeElectionTimeoutsBehind() async throws {
        let cluster = try TestCluster(size: 3, partitions: 4)
        do {
            try await cluster.startAll()
            try await cluster.waitForLeaders()
            let (_, _, front, third, cart) = try await cluster.cartLedElsewhere(named: "local-stuck")
            let viaFront = try cluster.client(front, as: "alice")
            let viaThird = try cluster.client(third, as: "alice")
            let before = try await viaThird.call(.cartAddItem, AddItemRequest(cart: cart, item: "sku-c", quantity: 1, request: Keys.next()))
            try await eventually(10, "node \(front) applied the add") {
                try await viaFront.call(.cartGet, GetCartRequest(cart: cart, local: true)).cart.seq == before.seq
            }
            let journal = try XCTUnwrap(cluster.node(front).journal)
            journal.pauseSyncs()
            let during: CartWriteReply
            do {
                during = try await viaThird.call(.cartAddItem, AddItemRequest(cart: cart, item: "sku-c", quantity: 1, request: Keys.next()))
                let stale = try await viaFront.call(.cartGet, GetCartRequest(cart: cart, local: true))
                XCTAssertEqual(stale.cart.seq, before.seq, "the copy ends where node \(front) stopped applying")
                XCTAssertNotEqual(stale.servedBy?.leader, NodeID.none, "node \(front) still hears a leader")
                let refusal = try await eventuallyRefused(10, "node \(front) refuses local reads once it falls behind", answersFirst: true) {
                    try await viaFront.call(.cartGet, GetCartRequest(cart: cart, local: true))
                } matching: { $0.code == .unavailable }
                XCTAssertTrue(refusal.message.contains("has not applied what was committed three election timeouts ago"), "\(refusal)")
                XCTAssertNotNil(refusal.leaderHint, "the refusal names another replica")
            } catch {
                journal.resumeSyncs()
                throw error
            }
            journal.resumeSyncs()
            try await eventually(20, "node \(front) serves its copy again once it caught up") {
                (try? await viaFront.call(.cartGet, GetCartRequest(cart: cart, local: true)).cart.seq) == during.seq
            }
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }
}
