import CartRaft
import CartRaftSimulation
import CartTypes
import XCTest

/// Leader election (§5.2), stepping down on higher terms (§5.1), pre-vote (thesis §9.6)
/// and check-quorum (thesis §6.2).
final class ElectionTests: XCTestCase {
    /// Three fresh nodes tick until one times out; it wins, and every node knows it (§5.2).
    func testThreeFreshNodesElectExactlyOneLeaderAfterElectionTimeouts() throws {
        let cluster = LocalCluster(voters: [1, 2, 3])
        for _ in 0..<100 where cluster.leader == nil { cluster.tick() }
        let leader = try XCTUnwrap(cluster.leader)
        XCTAssertEqual(cluster.nodes.values.filter { $0.currentRole == .leader }.count, 1)
        for node in cluster.nodes.values {
            XCTAssertEqual(node.leaderHint, leader.id)
            XCTAssertEqual(node.currentTerm, leader.currentTerm)
        }
    }

    /// A one-node group is its own majority and leads as soon as it campaigns.
    func testSingleNodeBecomesLeaderWhenItCampaigns() {
        let cluster = LocalCluster(voters: [1])
        cluster.campaign(1)
        XCTAssertEqual(cluster[1].currentRole, .leader)
        XCTAssertEqual(cluster[1].commitIndex, 1, "the no-op of its term commits at once")
    }

    /// §5.4.1: n1's log ends in a later term than n2's longer log, so n1 refuses n2 its
    /// vote. With n3 unreachable n2 cannot win, while n1 (whose log n2 accepts) can.
    func testCandidateWithStaleLogLosesElection() throws {
        let configuration = Configuration(voters: [1, 2, 3])
        let storages = TestLogs.storages(configuration, logs: [1: [1, 2], 2: [1, 1, 1], 3: []], term: 2)
        let cluster = LocalCluster(storages: storages)
        cluster.isolate(3)
        cluster.campaign(2)
        XCTAssertNotEqual(cluster[2].currentRole, .leader)
        XCTAssertEqual(cluster[1].hardState.vote, .none, "n1 must not vote for a staler log")
        cluster.campaign(1)
        XCTAssertEqual(cluster[1].currentRole, .leader)
    }

    /// §5.1: a leader cut off while the others elect a new leader keeps believing it leads
    /// (its clock stood still). When the link heals, its next heartbeat is answered with
    /// the higher term and it steps down.
    func testLeaderWithStaleTermStepsDownOnHeartbeatResponse() {
        let cluster = LocalCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        XCTAssertEqual(cluster[1].currentRole, .leader)
        let oldTerm = cluster[1].currentTerm
        cluster.isolate(1)
        for _ in 0..<30 where cluster[2].currentRole != .leader && cluster[3].currentRole != .leader {
            cluster.tick(2)
            cluster.tick(3)
        }
        XCTAssertGreaterThan(cluster[2].currentTerm, oldTerm)
        XCTAssertEqual(cluster[1].currentRole, .leader, "the isolated leader has not noticed yet")
        cluster.heal()
        cluster.tick(1)
        XCTAssertEqual(cluster[1].currentRole, .follower)
        XCTAssertGreaterThan(cluster[1].currentTerm, oldTerm)
        XCTAssertEqual(cluster.nodes.values.filter { $0.currentRole == .leader }.count, 1)
    }

    /// Thesis §9.6: n3 is partitioned away and times out again and again. With pre-vote it
    /// never wins a pre-election, so its term stays put, and when it returns the leader
    /// keeps its term and role.
    func testPartitionedNodeWithPreVoteDoesNotDisruptLeaderWhenItReturns() {
        let cluster = LocalCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        let term = cluster[1].currentTerm
        cluster.isolate(3)
        cluster.tick(100)
        XCTAssertEqual(cluster[3].currentTerm, term, "pre-elections do not bump the term")
        cluster.heal()
        cluster.tick(5)
        XCTAssertEqual(cluster[1].currentRole, .leader)
        XCTAssertEqual(cluster[1].currentTerm, term)
        XCTAssertEqual(cluster[3].leaderHint, 1)
    }

    /// The counterpart that shows what pre-vote prevents: without pre-vote and
    /// check-quorum, the returning node's inflated term deposes a healthy leader.
    func testPartitionedNodeWithoutPreVoteDisruptsLeaderWhenItReturns() {
        let cluster = LocalCluster(voters: [1, 2, 3]) { id in
            var options = RaftOptions(id: id)
            options.preVote = false
            options.checkQuorum = false
            return options
        }
        cluster.campaign(1)
        let term = cluster[1].currentTerm
        cluster.isolate(3)
        cluster.tick(100)
        XCTAssertGreaterThan(cluster[3].currentTerm, term)
        cluster.heal()
        cluster.tick(30)
        XCTAssertGreaterThan(cluster[1].currentTerm, term, "the leader was forced into a new term")
    }

    /// Check-quorum (thesis §6.2): a leader that hears from no majority for a whole election
    /// timeout steps down, so clients stop talking to a leader that may be stale. The check
    /// runs once per timeout and the first one still counts the answers from before the
    /// cut, so the step-down comes within two timeouts.
    func testLeaderThatLosesItsQuorumStepsDownAfterElectionTimeout() {
        let cluster = LocalCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        cluster.isolate(1)
        let timeout = RaftOptions(id: 1).electionTimeoutTicks
        cluster.tick(1, times: timeout)
        XCTAssertEqual(cluster[1].currentRole, .leader)
        cluster.tick(1, times: timeout)
        XCTAssertEqual(cluster[1].currentRole, .follower)
        XCTAssertEqual(cluster[1].leaderHint, .none)
    }

    /// Both followers' syncs stall for several election timeouts (one disk under every node
    /// of a cluster on one machine, a writeback storm): the leader keeps leading and still
    /// serves linearizable reads, because heartbeat answers need no write and leave at once.
    /// Nothing commits until the syncs return, and then everything does. Sent only with
    /// their Readies, the answers would wait for the syncs and the leader would step down
    /// by check-quorum (the second half).
    func testFollowersWhoseSyncsStallStillAnswerHeartbeats() throws {
        let timeout = RaftOptions(id: 1).electionTimeoutTicks
        for sendsEarly in [true, false] {
            let cluster = LocalCluster(voters: [1, 2, 3])
            cluster.sendsBeforeDurable = sendsEarly
            cluster.campaign(1)
            let term = cluster[1].currentTerm
            let committed = cluster[1].commitIndex
            cluster.stallDisk(2)
            cluster.stallDisk(3)
            let proposal = try cluster[1].propose([7])
            cluster.deliverAll()
            cluster.tick(4 * timeout)
            guard sendsEarly else {
                XCTAssertNotEqual(cluster[1].currentRole, .leader, "control: answers held with their Readies")
                continue
            }
            XCTAssertEqual(cluster[1].currentRole, .leader)
            XCTAssertEqual(cluster[1].currentTerm, term)
            XCTAssertEqual(cluster[1].commitIndex, committed, "no follower's write is durable yet")
            try cluster[1].readIndex(context: [42])
            cluster.tick(2)
            XCTAssertEqual(cluster.readStates[1]?.map(\.context), [[42]])
            cluster.resumeDisks()
            XCTAssertEqual(cluster[1].commitIndex, proposal.index)
            XCTAssertEqual(cluster.appliedData(2).last, [7])
            XCTAssertEqual(cluster[2].currentTerm, term)
        }
    }

    /// A follower whose sync stalls with the leader's entry unsynced, when the leader goes
    /// away: pre-votes and their answers need no write, so the elections start at once (the
    /// terms rise), but no vote of the stalled node counts until its disk returns, and then
    /// a leader is elected. Sent only with their Readies, the stalled node's pre-vote answers
    /// would wait for its sync and no election could start (the control).
    func testAFollowerWhoseSyncStallsStillTakesPartInPreVotes() throws {
        let timeout = RaftOptions(id: 1).electionTimeoutTicks
        for sendsEarly in [true, false] {
            let cluster = LocalCluster(voters: [1, 2, 3])
            cluster.sendsBeforeDurable = sendsEarly
            cluster.campaign(1)
            let term = cluster[1].currentTerm
            cluster.stallDisk(3)
            let proposal = try cluster[1].propose([7])
            cluster.deliverAll()
            XCTAssertEqual(cluster[1].commitIndex, proposal.index, "committed on the leader and node 2")
            XCTAssertEqual(cluster[3].lastIndex, proposal.index, "node 3 holds the entry, unsynced")
            cluster.isolate(1)
            cluster.tick(4 * timeout)
            for id: NodeID in [2, 3] {
                XCTAssertNotEqual(cluster[id].currentRole, .leader, "no vote of node 3 counts before its disk returns")
            }
            guard sendsEarly else {
                XCTAssertEqual(cluster[2].currentTerm, term, "control: node 3's pre-vote answers wait for its sync")
                XCTAssertEqual(cluster[3].currentTerm, term, "control: and so do its own pre-votes")
                continue
            }
            XCTAssertGreaterThan(max(cluster[2].currentTerm, cluster[3].currentTerm), term, "the pre-votes passed")
            cluster.resumeDisks()
            cluster.tick(4 * timeout)
            let leaders = [NodeID(2), NodeID(3)].filter { cluster[$0].currentRole == .leader }
            XCTAssertEqual(leaders.count, 1, "one of the two elected")
            let leader = try XCTUnwrap(leaders.first)
            let next = try cluster[leader].propose([8])
            cluster.deliverAll()
            XCTAssertEqual(cluster[leader].commitIndex, next.index)
            XCTAssertEqual(cluster.appliedData(2).suffix(2), [[7], [8]])
            XCTAssertEqual(cluster.appliedData(3).suffix(2), [[7], [8]])
        }
    }

    /// With check-quorum, a follower that heard from its leader recently ignores a vote
    /// request even at a higher term (the leader lease, thesis §4.2.3).
    func testFollowerWithLiveLeaderIgnoresVoteRequestFromHigherTerm() throws {
        let cluster = LocalCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        let term = cluster[1].currentTerm
        var request = Message(kind: .requestVote, from: 3, to: 2, term: Term(term.rawValue + 5))
        request.index = cluster[3].lastIndex
        request.logTerm = cluster[3].lastTerm
        try cluster[2].step(request)
        XCTAssertEqual(cluster[2].currentTerm, term)
        XCTAssertEqual(cluster[2].hardState.vote, 1)
    }

    /// Split votes resolve because each node draws its own timeout (§5.2): over many seeds
    /// the group always ends with a single leader.
    func testRandomizedTimeoutsElectALeaderForManySeeds() {
        for seed in UInt64(1)...50 {
            let cluster = LocalCluster(voters: [1, 2, 3, 4, 5], seed: seed)
            for _ in 0..<200 where cluster.leader == nil { cluster.tick() }
            XCTAssertNotNil(cluster.leader, "seed \(seed)")
        }
    }
}
