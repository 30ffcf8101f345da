import CartRaft
import CartRaftSimulation
import CartTypes
import XCTest

/// Leadership transfer (thesis §3.10).
final class LeadershipTransferTests: XCTestCase {
    /// The leader brings n3 up to date, then sends TimeoutNow; n3 campaigns at once
    /// (despite the other follower's leader lease) and wins the next term.
    func testTransferToLaggingFollowerCatchesItUpThenHandsOver() throws {
        let cluster = LocalCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        cluster.isolate(3)
        for index in 0..<5 { try cluster[1].propose([UInt8(index)]) }
        cluster.deliverAll()
        let term = cluster[1].currentTerm
        cluster.heal()
        try cluster[1].transferLeadership(to: 3)
        cluster.tick(2)
        XCTAssertEqual(cluster[3].currentRole, .leader)
        XCTAssertEqual(cluster[3].currentTerm, term.next)
        XCTAssertEqual(cluster[1].currentRole, .follower)
        XCTAssertEqual(cluster.appliedData(3).count, 5, "n3 got every entry before taking over")
    }

    /// While a transfer is under way the leader takes no proposals (they would delay the
    /// target catching up); if the target never answers, the transfer is abandoned after
    /// an election timeout and proposals flow again.
    func testProposalsAreRejectedDuringTransferAndResumeWhenItTimesOut() throws {
        let cluster = LocalCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        cluster.isolate(3)
        try cluster[1].transferLeadership(to: 3)
        XCTAssertThrowsError(try cluster[1].propose([1])) { error in
            XCTAssertEqual(error as? RaftError, .transferInProgress)
        }
        cluster.tick(1, times: RaftOptions(id: 1).electionTimeoutTicks)
        XCTAssertEqual(cluster[1].currentRole, .leader)
        XCTAssertEqual(cluster[1].leadershipTransferee, .none)
        XCTAssertNoThrow(try cluster[1].propose([1]))
    }

    /// Transfers only make sense from a leader to another voter.
    func testTransferRequestsThatCannotWorkAreTypedErrors() {
        let cluster = LocalCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        XCTAssertThrowsError(try cluster[2].transferLeadership(to: 3)) { error in
            XCTAssertEqual(error as? RaftError, .notLeader(leaderHint: 1))
        }
        XCTAssertThrowsError(try cluster[1].transferLeadership(to: 1)) { error in
            XCTAssertEqual(error as? RaftError, .transferTargetInvalid(target: 1))
        }
        XCTAssertThrowsError(try cluster[1].transferLeadership(to: 9)) { error in
            XCTAssertEqual(error as? RaftError, .transferTargetInvalid(target: 9))
        }
    }
}
