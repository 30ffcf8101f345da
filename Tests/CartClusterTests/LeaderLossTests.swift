import CartTypes
import Foundation
import XCTest

/// A partition leader's process dies (kill -9): the kernel closes its connections, the other
/// nodes take that as the leader being gone (`PartitionReplica.leaderGone`), and its
/// partitions elect new leaders without first waiting out an election timeout.
final class LeaderLossTests: XCTestCase {
    /// Ticks of 300 ms: an election timeout of 3 s (10 ticks), drawn between 3 and 6 s.
    static let tickMs = 300
    static let electionTimeoutSeconds = 3.0

    private var cluster: LocalCluster!

    override func setUp() async throws {
        cluster = try LocalCluster(nodes: 3, extraArguments: ["--tick-ms", "\(Self.tickMs)"])
        try cluster.startAll()
        try await cluster.waitForLeaders()
    }

    override func tearDown() async throws {
        if let cluster, let run = testRun, run.failureCount + run.unexpectedExceptionCount > 0 {
            print(cluster.logTails())
        }
        cluster?.stopAll()
        cluster = nil
    }

    // The node leading the most partitions is killed. Its followers still hold its lease
    // (they heard it a tick ago) and would refuse any vote for an election timeout; every
    // partition it led has a new leader well before that, because its closed connections
    // told them it is gone.
    func testThePartitionsOfAKilledLeaderElectNewLeadersBeforeAnElectionTimeout() async throws {
        let leaders = try await cluster.waitForLeaders()
        let counts = Dictionary(grouping: leaders.values, by: { $0 }).mapValues(\.count)
        let victim = try XCTUnwrap(counts.max { $0.value < $1.value }?.key)
        let led = leaders.filter { $0.value == victim }.map(\.key)

        let killedAt = ContinuousClock.now
        cluster.kill(victim)
        let after = try await cluster.waitForLeaders(excluding: [victim], timeoutSeconds: 30)
        let took = ContinuousClock.now - killedAt
        for partition in led { XCTAssertNotEqual(after[partition], victim, "\(partition) has a new leader") }
        // Half an election timeout: an election the leases held back could not be that early.
        XCTAssertLessThan(took, .milliseconds(Int(Self.electionTimeoutSeconds * 500)),
                          "the \(led.count) partitions of node \(victim) elected new leaders in \(took)")
    }
}
