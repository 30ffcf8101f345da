import CartAPI
import CartTypes
@testable import CartNode
import CartTestSupport
import XCTest

/// Leader balancing: the decision (pure) and a cluster that spreads its leaders by itself.
final class LeaderBalanceTests: XCTestCase {
    private static func threeReplicas(_ partition: PartitionID) -> [NodeID] { [1, 2, 3] }

    // 8 partitions all led by node 1: in one round it hands five over, alternating between
    // the two others (the least busy first, the lowest id on a tie), ending at 3/3/2; nodes 2
    // and 3 have nothing to hand over.
    func testTheBusiestNodeHandsPartitionsToTheLeastBusyReplicasUntilEven() {
        let leaders = [NodeID](repeating: 1, count: 8)
        let plan = LeaderBalance.plan(me: 1, leaders: leaders, replicas: Self.threeReplicas, hosts: { _ in true }, isLive: { _ in true })
        XCTAssertEqual(plan.map(\.target), [2, 3, 2, 3, 2])
        XCTAssertEqual(Set(plan.map(\.partition)).count, 5)
        XCTAssertEqual(LeaderBalance.plan(me: 2, leaders: leaders, replicas: Self.threeReplicas, hosts: { _ in true }, isLive: { _ in true }), [])
    }

    // 3/3/2 of 8 is as even as it gets: a gap of one moves nothing (no back and forth).
    func testNothingMovesWhenNoNodeLeadsTwoMoreThanAnother() {
        let leaders: [NodeID] = [1, 2, 3, 1, 2, 3, 1, 2]
        for me in [NodeID(1), 2, 3] {
            XCTAssertEqual(LeaderBalance.plan(me: me, leaders: leaders, replicas: Self.threeReplicas, hosts: { _ in true }, isLive: { _ in true }), [], "node \(me)")
        }
    }

    // A partition without a known leader means an election is under way: nothing moves.
    func testNothingMovesDuringAnElection() {
        let leaders: [NodeID] = [1, 1, 1, 1, .none]
        XCTAssertEqual(LeaderBalance.plan(me: 1, leaders: leaders, replicas: Self.threeReplicas, hosts: { _ in true }, isLive: { _ in true }), [])
    }

    // Node 3 is down (it answers nobody): node 1, leading 6 of 8, hands partitions to node
    // 2 only, until they are within one (4/4), instead of waiting for node 3 for ever.
    func testADownNodeIsNoTargetAndDoesNotHoldUpTheOthers() {
        let leaders: [NodeID] = [1, 1, 1, 1, 1, 1, 2, 2]
        let plan = LeaderBalance.plan(me: 1, leaders: leaders, replicas: Self.threeReplicas, hosts: { _ in true },
                                      isLive: { $0 != 3 })
        XCTAssertEqual(plan.map(\.target), [2, 2])
    }

    // A partition this node does not host, with no leader known to it, does not stop it:
    // only its own partitions' elections do.
    func testAnUnknownLeaderOfAPartitionHostedElsewhereDoesNotStopBalancing() {
        let leaders: [NodeID] = [1, 1, 1, 1, .none]
        let hosted: (PartitionID) -> Bool = { $0.rawValue < 4 }
        XCTAssertEqual(LeaderBalance.plan(me: 1, leaders: leaders, replicas: Self.threeReplicas, hosts: hosted,
                                          isLive: { _ in true }).count, 2)
    }

    // Only a replica of the partition can take it over: with five nodes and replication 3,
    // node 1's partitions go to the least busy of their own replicas.
    func testAPartitionGoesOnlyToOneOfItsReplicas() {
        let leaders: [NodeID] = [1, 1, 1, 4]
        let replicas: (PartitionID) -> [NodeID] = { $0.rawValue == 0 ? [1, 4, 5] : [1, 2, 3] }
        let transfers = LeaderBalance.plan(me: 1, leaders: leaders, replicas: replicas, hosts: { _ in true }, isLive: { _ in true })
        XCTAssertEqual(transfers.first, LeaderBalance.Transfer(partition: 0, target: 5))
        XCTAssertEqual(transfers.count, 2, "3 led → 1: the others lead 0, 1 and 1 (counting the first transfer)")
        XCTAssertTrue(transfers.allSatisfy { $0.partition.rawValue == 0 ? [4, 5].contains($0.target) : [2, 3].contains($0.target) })
    }

    // A node that stops gracefully first hands each partition it leads to a caught-up
    // replica, so its partitions do not wait out an election timeout (2 s here) as after a
    // crash: within a second of its stop the two others lead every partition, through the
    // hand-overs it counted, and serve writes.
    func testANodeThatStopsHandsItsLeadershipsOverFirst() async throws {
        let cluster = try TestCluster(size: 3, partitions: 8) { configuration in
            configuration.leaderBalanceIntervalMs = 0
            configuration.electionTimeoutTicks = 40
        }
        try await cluster.startAll()
        do {
            try await cluster.waitForLeaders(30)
            var led: [NodeID: Int] = [:]
            for partition in (0..<8).map({ PartitionID(UInt32($0)) }) {
                led[try await cluster.leader(of: partition, within: 10), default: 0] += 1
            }
            let (leaving, leading) = try XCTUnwrap(led.max { $0.value < $1.value })
            let metrics = cluster.node(leaving).metrics
            let transfersBefore = metrics.value(.leaderTransfers)
            await cluster.stop(leaving)
            XCTAssertEqual(metrics.value(.leaderTransfers) - transfersBefore, UInt64(leading), "one hand-over per partition it led")
            try await eventually(1, "the two others lead every partition") {
                for partition in (0..<8).map({ PartitionID(UInt32($0)) }) {
                    guard let leader = await cluster.leader(of: partition), leader != leaving else { return false }
                }
                return true
            }
            let survivor = [NodeID(1), 2, 3].first { $0 != leaving }!
            _ = try await cluster.client(survivor, as: "alice").call(.cartCreate, CreateCartRequest(cart: "after-stop", request: Keys.next()))
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    // Three nodes, 8 partitions, balancing every 200 ms. Every leadership is first handed to
    // node 1, as after a start in which node 1 won every election. The nodes spread them out
    // again by themselves: no node ends up leading two more than another, and writes work
    // throughout.
    func testAClusterWhoseLeadersGatheredOnOneNodeSpreadsThem() async throws {
        let cluster = try TestCluster(size: 3, partitions: 8) { $0.leaderBalanceIntervalMs = 200 }
        try await cluster.startAll()
        do {
            try await cluster.waitForLeaders()
            for partition in (0..<8).map({ PartitionID(UInt32($0)) }) {
                let leader = try await cluster.leader(of: partition, within: 10)
                guard leader != 1, let replica = cluster.node(leader).replica(partition) else { continue }
                // Setup only: a leadership that moved meanwhile is left where it went.
                try? await replica.loop.submit {
                    try replica.raft.transferLeadership(to: 1)
                    replica.scheduleReady()
                }.get()
            }
            let alice = try cluster.client(2, as: "alice")
            _ = try await alice.call(.cartCreate, CreateCartRequest(cart: "balanced", request: Keys.next()))
            try await eventually(30, "the leaders spread over the nodes") {
                var led: [NodeID: Int] = [1: 0, 2: 0, 3: 0]
                for partition in (0..<8).map({ PartitionID(UInt32($0)) }) {
                    guard let leader = await cluster.leader(of: partition) else { return false }
                    led[leader, default: 0] += 1
                }
                return led.values.max()! - led.values.min()! <= 1
            }
            let transfers = [NodeID(1), 2, 3].map { cluster.node($0).metrics.value(.leaderTransfers) }.reduce(0, +)
            XCTAssertGreaterThan(transfers, 0)
            _ = try await alice.call(.cartGet, GetCartRequest(cart: "balanced"))
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }
}
