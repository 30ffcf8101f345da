import CartRaft
import CartRaftSimulation
import CartTypes
import XCTest

/// Linearizable reads through ReadIndex (thesis §6.4).
final class ReadIndexTests: XCTestCase {
    /// §6.4 steps 2–3: the leader records its commit index, confirms it is still leader
    /// with one heartbeat round, then answers. Nothing is written to the log.
    func testLeaderAnswersReadIndexAfterHeartbeatRoundWithoutWritingTheLog() throws {
        let cluster = LocalCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        try cluster[1].propose([7])
        cluster.deliverAll()
        let lastIndex = cluster[1].lastIndex
        try cluster[1].readIndex(context: [1])
        cluster.deliverAll()
        XCTAssertEqual(cluster.readStates[1], [ReadState(index: 2, context: [1])])
        XCTAssertEqual(cluster[1].lastIndex, lastIndex)
    }

    /// A leader cut off from its majority may already be deposed, so it must not answer.
    /// Later heartbeats carry the pending request, so it is answered once the cut heals.
    func testPartitionedLeaderCannotConfirmReadIndex() throws {
        let cluster = LocalCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        cluster.isolate(1)
        try cluster[1].readIndex(context: [1])
        cluster.tick(1, times: 3)
        XCTAssertEqual(cluster.readStates[1], [])
        cluster.heal()
        cluster.tick(1)
        XCTAssertEqual(cluster.readStates[1], [ReadState(index: 1, context: [1])],
                       "answered once a majority confirms")
    }

    /// A follower forwards the request; the leader confirms and replies; the answer
    /// surfaces as a ReadState on the follower.
    func testFollowerReadIndexIsForwardedToLeader() throws {
        let cluster = LocalCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        try cluster[1].propose([7])
        cluster.deliverAll()
        try cluster[3].readIndex(context: [9])
        cluster.deliverAll()
        XCTAssertEqual(cluster.readStates[3], [ReadState(index: 2, context: [9])])
        XCTAssertEqual(cluster.readStates[1], [])
        let isolated = LocalCluster(voters: [1, 2, 3])
        XCTAssertThrowsError(try isolated[2].readIndex(context: [1])) { error in
            XCTAssertEqual(error as? RaftError, .notLeader(leaderHint: .none))
        }
    }

    /// §6.4 step 1: a new leader's commit index may lag the old leader's until an entry of
    /// its own term commits, so a read that arrives earlier waits for that no-op.
    func testNewLeaderDefersReadIndexUntilItCommitsAnEntryOfItsTerm() throws {
        let cluster = LocalCluster(voters: [1, 2, 3])
        cluster.intercept = { message in
            // Hold back the no-op so the leader cannot commit in its term yet.
            message.kind == .append && !message.entries.isEmpty ? nil : message
        }
        cluster.campaign(1)
        XCTAssertEqual(cluster[1].currentRole, .leader)
        try cluster[1].readIndex(context: [5])
        cluster.tick(1, times: 2)
        XCTAssertEqual(cluster.readStates[1], [], "no entry of the leader's term is committed yet")
        cluster.intercept = nil
        cluster.tick(1, times: 2)
        XCTAssertEqual(cluster.readStates[1], [ReadState(index: 1, context: [5])])
    }
}
