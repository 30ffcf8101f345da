import CartAPI
import CartDomain
@testable import CartNode
import CartRPC
import CartTestSupport
import CartTypes
import CartWire
import NIOConcurrencyHelpers
import NIOPosix
import XCTest

/// A node the network cuts off from its peers, while clients still reach it: it must send
/// them elsewhere rather than keep them waiting for a leader that cannot reach it.
final class CutOffNodeTests: XCTestCase {
    // Every path between node 1 and the two others stalls (their bytes wait in the proxies).
    // The two others are a majority: they elect leaders for node 1's partitions and serve.
    // Node 1 hears from no one, so a call it gets fails with `unavailable`, saying it is cut
    // off, instead of a `notLeader` after waiting out its leader wait (3 s). Once the paths
    // resume, node 1 serves again, and the writes made meanwhile are in its replica.
    func testANodeCutOffFromEveryPeerSendsItsClientsElsewhereAndServesAgainOnceBack() async throws {
        try await ProxiedPaths.withCluster(size: 3, partitions: 4) { cluster, proxies in
            let cut: NodeID = 1
            let inside = try cluster.client(cut, as: "alice")
            let outside = try cluster.client(2, as: "alice")
            _ = try await outside.call(.itemPut, PutItemRequest(item: "sku-c", name: "sku-c", price: Money(minorUnits: 100),
                                                                initialStock: 1_000_000, request: Keys.next()))
            let cart = CartID("cut-off")
            _ = try await outside.call(.cartCreate, CreateCartRequest(cart: cart, request: Keys.next()))
            _ = try await Self.add(inside, cart)

            for other in [NodeID(2), NodeID(3)] {
                proxies[cut, other].hold()
                proxies[other, cut].hold()
            }
            try await eventually(15, "node \(cut) knows no leader of any partition") {
                await cluster.node(cut).partitionStatuses().allSatisfy { $0.leader == NodeID.none }
            }
            // The majority side serves throughout (after its election).
            let outsideSeq = try await Self.firstAdd(outside, cart, within: 15, "node 2 serves the cart without node \(cut)").seq

            let givenUpBefore = cluster.node(cut).metrics.value(.callsGivenUp)
            let refused = await assertRPCError(.unavailable) { try await Self.add(inside, cart) }
            XCTAssertTrue(refused?.message.contains("cut off") ?? false, "\(String(describing: refused))")
            XCTAssertGreaterThan(cluster.node(cut).metrics.value(.callsGivenUp), givenUpBefore)

            for other in [NodeID(2), NodeID(3)] {
                proxies[cut, other].release()
                proxies[other, cut].release()
            }
            let back = try await Self.firstAdd(inside, cart, within: 20, "node \(cut) serves again once its paths resume")
            // The cart's log went on from where the majority side left it.
            XCTAssertGreaterThan(back.seq, outsideSeq)
        }
    }

    // Only the path between a follower ("front") and its partition's leader stalls; the third
    // node still hears both. The leader keeps its majority with the third node, so the front
    // node's pre-votes win nothing and it has no leader for that partition. Its callers get a
    // `notLeader` once an election's worth of waiting has passed (not the full leader wait),
    // and the same call through the third node, which forwards to the leader, succeeds.
    func testAFollowerCutFromItsLeaderOnlySendsItsClientsOnAfterAnElectionsWorthOfWaiting() async throws {
        try await ProxiedPaths.withCluster(size: 3, partitions: 4) { cluster, proxies in
            let (partition, leader, front, third, cart) = try await cluster.cartLedElsewhere(named: "cut-link")
            let viaFront = try cluster.client(front, as: "alice")
            let viaThird = try cluster.client(third, as: "alice")

            proxies[front, leader].hold()
            proxies[leader, front].hold()
            try await eventually(15, "node \(front) knows no leader of \(partition)") {
                await cluster.node(front).partitionStatuses().first { $0.partition == partition }?.leader == NodeID.none
            }
            let refused = await assertRPCError(.notLeader) { try await Self.add(viaFront, cart) }
            XCTAssertTrue(refused?.message.contains("ask another node") ?? false, "\(String(describing: refused))")
            _ = try await Self.add(viaThird, cart)
            let leaderNow = await cluster.node(third).partitionStatuses().first { $0.partition == partition }?.leader
            XCTAssertEqual(leaderNow, leader, "the leader kept its leadership with the third node")

            proxies[front, leader].release()
            proxies[leader, front].release()
            _ = try await Self.firstAdd(viaFront, cart, within: 20, "node \(front) serves the cart again once the path resumes")
        }
    }

    // Only the path from a follower ("front") to its partition's leader stalls; the way back
    // works, so the front node still hears the leader's heartbeats and counts it as up. A
    // call forwarded over the stalled path fails once the link's stall watch gives the
    // connection up; from then on, while the link cannot reconnect, the front node must not
    // count on the leader: it refuses with `notLeader` naming the leader, which the client
    // reaches directly, instead of trying the path again until the client's own timeout.
    func testAFollowerWhosePathToItsLeaderIsCutOneWaySendsItsClientsToTheLeader() async throws {
        try await ProxiedPaths.withCluster(size: 3, partitions: 4) { cluster, proxies in
            let (_, leader, front, _, cart) = try await cluster.cartLedElsewhere(named: "one-way")
            let viaFront = try cluster.client(front, as: "alice")
            _ = try await Self.add(viaFront, cart)

            proxies[front, leader].hold()
            let services = try XCTUnwrap(cluster.node(front).services)
            // The first call rides the stalled path until the stall watch gives it up.
            let started = ContinuousClock.now
            let first = await assertRPCError(.notLeader) { try await Self.add(viaFront, cart) }
            let firstTook = ContinuousClock.now - started
            XCTAssertEqual(first?.leaderHint?.nodeID, leader, "\(String(describing: first))")
            XCTAssertTrue(services.router.contact.hears(leader, self: front, withinMs: 1_000),
                          "the leader's heartbeats still reach node \(front)")
            // Later calls are refused without trying the path again: they name the leader and
            // say why, and the front node's forwarded calls do not grow.
            let forwardedBefore = cluster.node(front).metrics.value(.forwardedCalls)
            for _ in 0..<5 {
                let refused = await assertRPCError(.notLeader) { try await Self.add(viaFront, cart) }
                XCTAssertEqual(refused?.leaderHint?.nodeID, leader, "\(String(describing: refused))")
                XCTAssertTrue(refused?.message.contains("link") ?? false, "\(String(describing: refused))")
            }
            XCTAssertEqual(cluster.node(front).metrics.value(.forwardedCalls), forwardedBefore,
                           "no call was forwarded over the cut path (the first took \(firstTook))")
            // The leader itself serves the client.
            let viaLeader = try cluster.client(leader, as: "alice")
            _ = try await Self.add(viaLeader, cart)

            proxies[front, leader].release()
            _ = try await Self.firstAdd(viaFront, cart, within: 20, "node \(front) forwards again once the path resumes")
        }
    }

    // A client's call waits at a node for a leader the node does not have (the path to the
    // partition's leader stalls; the node still hears the third node, which leads another
    // partition, so it waits up to its contact window, two 2 s election timeouts), and the
    // node stops meanwhile. The call ends with the node: it is answered `unavailable` before
    // the shutdown returns, and no retry of it is left to run on the node's stopped loops.
    func testACallWaitingForALeaderWhenItsNodeStopsEndsBeforeTheNodeHasStopped() async throws {
        let electionTimeoutMs: Int64 = 2_000
        try await ProxiedPaths.withCluster(size: 3, partitions: 4, tweak: {
            $0.electionTimeoutTicks = Int(electionTimeoutMs / $0.tickIntervalMs)
            $0.leaderWaitMs = 30_000
        }) { cluster, proxies in
            var statuses = await cluster.node(1).partitionStatuses()
            if let only = statuses.first?.leader, statuses.allSatisfy({ $0.leader == only }) {
                // One node leads everything: it hands some over, so that two nodes lead.
                _ = await cluster.node(only).services?.handOverLeaderships(limitMs: 2 * electionTimeoutMs)
                try await eventually(10, "every partition has a leader again") {
                    await cluster.node(1).partitionStatuses().allSatisfy { $0.leader != .none }
                }
                statuses = await cluster.node(1).partitionStatuses()
            }
            let (partition, leader) = (statuses[0].partition, statuses[0].leader)
            let third = try XCTUnwrap(statuses.first { $0.leader != leader }?.leader, "two nodes lead partitions")
            let front = try XCTUnwrap([NodeID(1), NodeID(2), NodeID(3)].first { $0 != leader && $0 != third })
            proxies[front, leader].hold()
            proxies[leader, front].hold()
            let services = try XCTUnwrap(cluster.node(front).services)
            // Until the leader has been silent an election timeout, the stop would still try
            // to hand the front node's leaderships to it, and wait on the stalled path.
            try await eventually(15, "node \(front) knows no leader of \(partition) and no longer counts on \(leader)") {
                let known = await cluster.node(front).partitionStatuses().first { $0.partition == partition }?.leader
                return known == NodeID.none && !services.router.contact.hears(leader, self: front, withinMs: electionTimeoutMs)
            }
            let replica = try XCTUnwrap(services.replicas[partition])
            let answer = NIOLockedValueBox<Result<CommandOutcome, any Error>?>(nil)
            // A client's call, as one the client drain stopped waiting for would be (its leader
            // wait, 30 s here, outlasts the drain's 5 s); not the node's own.
            let command = Command.addItem(AddItem(cart: "waiting", actor: "alice", item: "tea", quantity: 1,
                                                  unitPrice: Money(minorUnits: 100)))
            services.proposeInternal(command, partition: partition, request: Keys.next(),
                                     caller: Caller(actor: "alice"), on: replica.loop)
                .whenComplete { result in answer.withLockedValue { $0 = result } }
            try await eventually(5, "the call waits for a leader at node \(front)") { services.router.retriesWaiting > 0 }

            await cluster.stop(front)
            XCTAssertEqual(services.router.retriesWaiting, 0, "no retry of the call outlives its node")
            let result = try XCTUnwrap(answer.withLockedValue { $0 }, "the call is answered before the node has stopped")
            guard case .failure(let error) = result, let rpc = error as? RPCError else {
                return XCTFail("expected the node's refusal, got \(result)")
            }
            XCTAssertEqual(rpc.code, .unavailable)
            XCTAssertTrue(rpc.message.contains("shutting down"), rpc.message)
            proxies[leader, front].release()
            proxies[front, leader].release()
        }
    }

    // A partition's leader is cut off from both peers while its client still reaches it; for
    // a moment it still takes itself for the leader. An addition its own copy says is beyond
    // the item's stock is not refused from that copy (the majority may have applied a first
    // attempt of it meanwhile): a refusal waits for a majority to confirm the leadership, so
    // the call fails as one the client takes elsewhere. Through the majority side, the same
    // addition is refused for short stock.
    func testACutOffLeaderDoesNotRefuseAnAdditionFromItsOwnCopy() async throws {
        try await ProxiedPaths.withCluster(size: 3, partitions: 4) { cluster, proxies in
            let cart = CartID("cut-off-stock")
            let partition = try XCTUnwrap(cluster.node(1).placement).partition(of: cart)
            let leader = try await cluster.leader(of: partition, within: 10)
            let atLeader = try cluster.client(leader, as: "alice")
            _ = try await atLeader.call(.itemPut, PutItemRequest(item: "rare", name: "rare", price: Money(minorUnits: 100),
                                                                 initialStock: 2, request: Keys.next()))
            _ = try await atLeader.call(.cartCreate, CreateCartRequest(cart: cart, request: Keys.next()))
            _ = try await atLeader.call(.cartAddItem, AddItemRequest(cart: cart, item: "rare", quantity: 2, request: Keys.next()))
            let others = [NodeID(1), NodeID(2), NodeID(3)].filter { $0 != leader }
            for other in others {
                proxies[leader, other].hold()
                proxies[other, leader].hold()
            }
            do {
                _ = try await atLeader.call(.cartAddItem, AddItemRequest(cart: cart, item: "rare", quantity: 1, request: Keys.next()))
                XCTFail("node \(leader), cut off, accepted an addition")
            } catch let error as RPCError {
                XCTAssertTrue([ErrorCode.unavailable, .notLeader, .deadlineExceeded].contains(error.code),
                              "node \(leader), cut off, answered from its own copy: \(error)")
            }
            let outside = try cluster.client(others[0], as: "alice")
            try await eventuallyRefused(15, "the majority side refuses the addition for short stock") {
                try await outside.call(.cartAddItem, AddItemRequest(cart: cart, item: "rare", quantity: 1, request: Keys.next()))
            } matching: { $0.code == .failedPrecondition }
            for other in others {
                proxies[leader, other].release()
                proxies[other, leader].release()
            }
        }
    }

    /// The first add to `cart` that succeeds, trying every 100 ms for up to `seconds`.
    private static func firstAdd(_ client: RPCClient, _ cart: CartID, within seconds: Double, _ what: String) async throws -> CartWriteReply {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while true {
            if let reply = try? await add(client, cart) { return reply }
            guard ContinuousClock.now < deadline else { throw TestFailure("\(what) did not happen within \(seconds) s") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    private static func add(_ client: RPCClient, _ cart: CartID) async throws -> CartWriteReply {
        try await client.call(.cartAddItem, AddItemRequest(cart: cart, item: "sku-c", quantity: 1, request: Keys.next()))
    }
}
