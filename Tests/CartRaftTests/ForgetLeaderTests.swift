import CartRaft
import CartRaftSimulation
import CartTypes
import XCTest

/// Followers told from outside that their leader is gone (`forgetLeader`) elect a new one
/// without waiting out an election timeout; a leader forgotten while alive keeps leading.
final class ForgetLeaderTests: XCTestCase {
    /// The leader is cut off (as if its process died). A follower that campaigns at once is
    /// refused while the other still holds the leader's lease; once both have forgotten the
    /// leader, the same campaign wins, with no tick in between, and the log goes on.
    func testFollowersThatForgetTheirLeaderElectANewOneWithoutAnElectionTimeout() throws {
        let cluster = LocalCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        try cluster[1].propose([1])
        cluster.deliverAll()
        let term = cluster[1].currentTerm
        cluster.isolate(1)

        cluster.campaign(2)
        XCTAssertNotEqual(cluster[2].currentRole, .leader, "n3 still counts on the leader: no pre-vote")
        XCTAssertEqual(cluster[2].currentTerm, term)
        XCTAssertEqual(cluster[3].leaderHint, 1)

        cluster[3].forgetLeader()
        XCTAssertEqual(cluster[3].leaderHint, .none)
        cluster.campaign(2)
        XCTAssertEqual(cluster[2].currentRole, .leader)
        XCTAssertEqual(cluster[2].currentTerm, term.next)
        XCTAssertEqual(cluster[3].leaderHint, 2)
        try cluster[2].propose([2])
        cluster.deliverAll()
        XCTAssertEqual(cluster.appliedData(3), [[1], [2]])
    }

    /// A follower that forgets a leader that is alive, and campaigns, changes nothing: the
    /// others still hold the lease, the term stays, and the next heartbeat makes the leader
    /// its leader again.
    func testForgettingALiveLeaderDisruptsNothing() throws {
        let cluster = LocalCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        let term = cluster[1].currentTerm
        cluster[2].forgetLeader()
        cluster.campaign(2)
        XCTAssertEqual(cluster[1].currentRole, .leader)
        XCTAssertEqual(cluster[1].currentTerm, term)
        cluster.tick(1, times: RaftOptions(id: 1).heartbeatIntervalTicks)
        XCTAssertEqual(cluster[2].currentRole, .follower)
        XCTAssertEqual(cluster[2].leaderHint, 1)
        XCTAssertEqual(cluster[2].currentTerm, term)
    }

    /// Only a follower forgets: a leader or a (pre-)candidate is left as it is.
    func testOnlyAFollowerForgets() {
        let cluster = LocalCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        cluster[1].forgetLeader()
        XCTAssertEqual(cluster[1].currentRole, .leader)
        XCTAssertEqual(cluster[1].leaderHint, 1)

        cluster.isolate(3)
        cluster.campaign(3)
        XCTAssertEqual(cluster[3].currentRole, .preCandidate)
        let term = cluster[3].currentTerm
        cluster[3].forgetLeader()
        XCTAssertEqual(cluster[3].currentRole, .preCandidate)
        XCTAssertEqual(cluster[3].currentTerm, term)
    }
}
