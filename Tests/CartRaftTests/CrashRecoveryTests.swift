import CartRaft
import CartRaftSimulation
import CartTypes
import XCTest

/// Restarting from what reached stable storage (§5.1 "persistent state").
final class CrashRecoveryTests: XCTestCase {
    /// A vote is persisted before the response is sent, so a node that restarts in the
    /// same term still refuses a second candidate (election safety, §5.2).
    func testRestartedNodeRemembersItsVoteAndRefusesAnotherCandidate() throws {
        let cluster = LocalCluster(voters: [1, 2, 3])
        cluster.isolate(3)
        cluster.campaign(1)
        let term = cluster[2].currentTerm
        XCTAssertEqual(cluster[2].hardState.vote, 1)
        cluster.restart(2)
        XCTAssertEqual(cluster[2].hardState.vote, 1)
        var request = Message(kind: .requestVote, from: 3, to: 2, term: term)
        request.index = cluster[2].lastIndex
        request.logTerm = cluster[2].lastTerm
        cluster.heal()
        cluster.isolate(1)
        try cluster.inject(request)
        let response = try XCTUnwrap(cluster.sent.last { $0.kind == .requestVoteResponse && $0.from == 2 })
        XCTAssertTrue(response.reject)
    }

    /// A crash between writing a Ready's entries and its hard state leaves entries of a
    /// term newer than the stored term. The node adopts that term on start, so its vote
    /// requests stay well-formed ("last log term ≤ current term").
    func testNodeWhoseStoredTermLagsItsLogAdoptsTheLogsTerm() {
        let configuration = Configuration(voters: [1, 2, 3])
        let storages = TestLogs.storages(configuration, logs: [1: [1, 3], 2: [1], 3: [1]], term: 2)
        let cluster = LocalCluster(storages: storages)
        XCTAssertEqual(cluster[1].currentTerm, 3)
        XCTAssertEqual(cluster[1].hardState.vote, .none)
        cluster.campaign(1)
        XCTAssertEqual(cluster[1].currentRole, .leader)
        XCTAssertEqual(cluster[1].currentTerm, 4)
    }

    /// A crash between a conflict truncation (durable at once) and the sync of the entries
    /// replacing it can leave a stored commit index past the log's end. The node starts with
    /// its commit at the end of the log, not beyond (no entry to apply is missing), and
    /// catches up from the leader as usual.
    func testACommitIndexPastTheLogsEndIsClampedOnRestart() throws {
        let configuration = Configuration(voters: [1, 2, 3])
        let storages = TestLogs.storages(configuration, logs: [1: [1, 1, 1, 1, 1], 2: [1, 1, 1, 1, 1], 3: [1, 1, 1]], term: 1,
                                         commit: LogIndex(5))
        storages[3]!.setHardState(HardState(term: Term(1), vote: .none, commit: LogIndex(5)))
        let cluster = LocalCluster(storages: storages)
        XCTAssertEqual(cluster[3].commitIndex, LogIndex(3))
        cluster.campaign(1)
        XCTAssertEqual(cluster[1].currentRole, .leader)
        _ = try cluster[1].propose(Array("after".utf8))
        cluster.deliverAll()
        XCTAssertEqual(cluster[3].lastIndex, cluster[1].lastIndex)
        XCTAssertEqual(cluster[3].commitIndex, cluster[1].commitIndex)
    }
}
