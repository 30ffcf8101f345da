import CartRaft
import CartRaftSimulation
import CartTypes
import XCTest

/// Log replication (§5.3), the commit rule (§5.4.2), batching and pipelining.
final class ReplicationTests: XCTestCase {
    /// Figure 7 (§5.3): a leader of term 8 meets followers (a)–(f), each missing entries,
    /// holding extra uncommitted ones, or both. Replication must leave every log equal to
    /// the leader's, and fast backtracking must need at most one rejection per
    /// conflicting term rather than one per entry.
    func testLeaderBringsEveryFigure7FollowerLogInLineWithItsOwn() {
        let logs: [NodeID: [UInt64]] = [
            1: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6],          // the leader-to-be
            2: [1, 1, 1, 4, 4, 5, 5, 6, 6],             // (a) missing one entry
            3: [1, 1, 1, 4],                            // (b) missing many
            4: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],       // (c) one extra uncommitted entry
            5: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],    // (d) extra entries of term 7
            6: [1, 1, 1, 4, 4, 4, 4],                   // (e) missing, plus extra of term 4
            7: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],       // (f) extra entries of terms 2 and 3
        ]
        let configuration = Configuration(voters: Array(logs.keys))
        let cluster = LocalCluster(storages: TestLogs.storages(configuration, logs: logs, term: 7))
        cluster.campaign(1)
        XCTAssertEqual(cluster[1].currentRole, .leader)
        XCTAssertEqual(cluster[1].currentTerm, 8)
        cluster.tick(3)
        let expected = logs[1]! + [8]
        for node in configuration.voters {
            XCTAssertEqual(TestLogs.terms(of: cluster[node]), expected, "log of \(node)")
            XCTAssertEqual(cluster[node].commitIndex, 11, "commit index of \(node)")
        }
        let rejections = cluster.sent.filter { $0.kind == .appendResponse && $0.reject }
        let rejectionsFromF = rejections.filter { $0.from == 7 }.count
        XCTAssertLessThanOrEqual(rejectionsFromF, 3, "(f) conflicts in terms 2 and 3 only")
        XCTAssertLessThanOrEqual(rejections.filter { $0.from == 3 }.count, 1, "(b) is only behind")
    }

    /// Figure 8 (§5.4.2), steps (a)–(d). S1 led term 2 and put entry 2 on S2; S5 led term
    /// 3 and put a different entry 2 only on itself. S1 returns as leader of term 4 and
    /// copies its term-2 entry to S3: now a majority stores it, yet it must not count as
    /// committed, because S5 can still win an election and overwrite it — which it does.
    /// (Check-quorum is off so that the followers' leader lease does not delay S5's
    /// election, which is beside the point here.)
    func testEntryFromEarlierTermOnMajorityIsNotCommittedAndCanBeOverwritten() {
        let logs: [NodeID: [UInt64]] = [1: [1, 2], 2: [1, 2], 3: [1], 4: [1], 5: [1, 3]]
        let configuration = Configuration(voters: Array(logs.keys))
        let cluster = LocalCluster(storages: TestLogs.storages(configuration, logs: logs, term: 3, commit: 1),
                                   options: Self.figure8Options)
        // (c) S5 is down; S1 wins term 4, but its term-4 no-op (index 3) is stripped from
        // every append, while the term-2 entry gets through.
        cluster.isolate(5)
        cluster.intercept = { message in
            var message = message
            message.entries.removeAll { $0.index == 3 }
            return message
        }
        cluster.campaign(1)
        XCTAssertEqual(cluster[1].currentTerm, 4)
        cluster.tick(3)
        XCTAssertEqual(cluster[3].term(at: 2), 2, "S3 now holds the term-2 entry")
        XCTAssertEqual(cluster[1].matchIndex(of: 2), 2)
        XCTAssertEqual(cluster[1].matchIndex(of: 3), 2)
        XCTAssertEqual(cluster[1].commitIndex, 1, "a majority holds index 2, but it is from term 2")
        // (d) S1 crashes; S5 returns and wins with votes from S2, S3, S4 (its last term 3
        // beats their 2), then overwrites index 2 everywhere.
        cluster.intercept = nil
        cluster.heal()
        cluster.isolate(1)
        Self.campaignUntilSettled(cluster, 5)
        XCTAssertEqual(cluster[5].currentRole, .leader)
        cluster.tick(3)
        for node: NodeID in [2, 3, 4, 5] {
            XCTAssertEqual(cluster[node].term(at: 2), 3, "index 2 of \(node) replaced by S5's entry")
        }
        XCTAssertFalse(cluster.applied.values.joined().contains { $0.index == 2 && $0.term == 2 },
                       "no node ever applied the overwritten entry")
    }

    /// Figure 8 (e): had S1 put an entry of its own term 4 on a majority before crashing,
    /// that entry and the term-2 entry before it are committed, and S5 can no longer win.
    func testEntryOfCurrentTermOnMajorityCommitsEarlierEntriesWithIt() {
        let logs: [NodeID: [UInt64]] = [1: [1, 2], 2: [1, 2], 3: [1], 4: [1], 5: [1, 3]]
        let configuration = Configuration(voters: Array(logs.keys))
        let cluster = LocalCluster(storages: TestLogs.storages(configuration, logs: logs, term: 3, commit: 1),
                                   options: Self.figure8Options)
        cluster.isolate(5)
        cluster.cut(from: 1, to: 4)
        cluster.campaign(1)
        cluster.tick(3)
        XCTAssertEqual(cluster[1].commitIndex, 3, "the term-4 no-op on S1, S2, S3 commits index 2 and 3")
        cluster.heal()
        cluster.isolate(1)
        Self.campaignUntilSettled(cluster, 5)
        XCTAssertNotEqual(cluster[5].currentRole, .leader, "S5's log lacks committed entries")
        XCTAssertEqual(cluster[2].term(at: 2), 2)
    }

    static func figure8Options(_ id: NodeID) -> RaftOptions {
        var options = RaftOptions(id: id)
        options.entriesPerAppendMax = 1
        options.checkQuorum = false
        return options
    }

    /// S5 comes back in an old term: its first pre-election only teaches it the current
    /// term, the next one is for real.
    static func campaignUntilSettled(_ cluster: LocalCluster, _ node: NodeID) {
        for _ in 0..<3 where cluster[node].currentRole != .leader {
            cluster.campaign(node)
        }
    }

    /// Proposals on the leader reach every state machine once, in proposal order.
    func testProposalsOnLeaderAreAppliedInOrderOnEveryNode() throws {
        let cluster = LocalCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        let payloads = (1...20).map { Array("cmd-\($0)".utf8) }
        for payload in payloads { try cluster[1].propose(payload) }
        cluster.tick(2)
        for node: NodeID in [1, 2, 3] {
            XCTAssertEqual(cluster.appliedData(node), payloads, "state machine of \(node)")
        }
    }

    /// Proposals are not forwarded: a follower answers with the leader to redirect to, and
    /// a node that knows no leader says so.
    func testProposalOnFollowerIsRejectedWithLeaderHint() {
        let cluster = LocalCluster(voters: [1, 2, 3])
        XCTAssertThrowsError(try cluster[2].propose([1])) { error in
            XCTAssertEqual(error as? RaftError, .notLeader(leaderHint: .none))
        }
        cluster.campaign(1)
        XCTAssertThrowsError(try cluster[2].propose([1])) { error in
            XCTAssertEqual(error as? RaftError, .notLeader(leaderHint: 1))
            XCTAssertEqual((error as? RaftError)?.code, 1)
        }
    }

    /// Batching: a follower that is 50 entries behind gets them in appends of at most
    /// `entriesPerAppendMax` entries and `appendBytesMax` bytes.
    func testCatchUpIsBatchedByEntryCountAndBytes() throws {
        let cluster = LocalCluster(voters: [1, 2, 3]) { id in
            var options = RaftOptions(id: id)
            options.entriesPerAppendMax = 8
            options.appendBytesMax = 5 * (100 + 16)
            return options
        }
        cluster.campaign(1)
        cluster.isolate(3)
        for index in 0..<50 { try cluster[1].propose([UInt8](repeating: UInt8(index), count: 100)) }
        cluster.tick(1)
        cluster.heal()
        cluster.clearSent()
        cluster.tick(3)
        let appendsTo3 = cluster.sent.filter { $0.kind == .append && $0.to == 3 && !$0.entries.isEmpty }
        XCTAssertGreaterThanOrEqual(appendsTo3.count, 10)
        for append in appendsTo3 {
            XCTAssertLessThanOrEqual(append.entries.count, 5, "bytes bound (5 entries of 116 bytes)")
        }
        XCTAssertEqual(cluster[3].commitIndex, cluster[1].commitIndex)
    }

    /// Batching across proposals: proposals made in one turn (before the caller takes the
    /// next Ready) reach each follower as ONE append, and the commit advance that their
    /// acknowledgements cause reaches each follower as one (empty) append, not one per entry.
    func testProposalsOfOneTurnTravelInOneAppendPerFollower() throws {
        let cluster = LocalCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        cluster.clearSent()
        for index in 0..<10 { try cluster[1].propose([UInt8(index)]) }
        cluster.deliverAll()
        let carrying = cluster.sent.filter { $0.kind == .append && $0.from == 1 && !$0.entries.isEmpty }
        XCTAssertEqual(carrying.map(\.to).sorted(), [2, 3], "one append with all ten entries per follower")
        XCTAssertEqual(carrying.map(\.entries.count), [10, 10])
        let commitOnly = cluster.sent.filter { $0.from == 1 && ($0.kind == .commitNotice || ($0.kind == .append && $0.entries.isEmpty)) }
        XCTAssertEqual(commitOnly.map(\.to).sorted(), [2, 3], "one commit notice per follower")
        XCTAssertEqual(Set(commitOnly.map(\.kind)), [.commitNotice], "streaming followers get notices, not empty appends")
        for id: NodeID in [1, 2, 3] {
            XCTAssertEqual(cluster.appliedData(id).suffix(10), (0..<10).map { [UInt8($0)] })
        }
    }

    /// With `leaderSendsBeforeDurable` the leader's appends leave before its own write is
    /// durable, and the leader counts itself only for entries reported durable:
    /// - its disk stalled, both followers store a proposal and their two syncs commit it;
    /// - its disk and follower 2's stalled (and 2's answers cut), follower 3's sync alone
    ///   commits nothing; the leader's own report, once its disk returns, does.
    /// Without the option (the control), a stalled leader disk holds the appends back.
    func testLeaderSendingBeforeItsOwnSyncCountsItselfOnlyOnceDurable() throws {
        for sendsBeforeDurable in [true, false] {
            let cluster = LocalCluster(voters: [1, 2, 3]) { id in
                var options = RaftOptions(id: id)
                options.leaderSendsBeforeDurable = sendsBeforeDurable
                return options
            }
            cluster.campaign(1)
            XCTAssertEqual(cluster[1].currentRole, .leader)
            let before = cluster[1].commitIndex
            cluster.stallDisk(1)
            let first = try cluster[1].propose([1])
            cluster.deliverAll()
            guard sendsBeforeDurable else {
                XCTAssertEqual(cluster[2].lastIndex, before, "control: the append waits for the leader's sync")
                XCTAssertEqual(cluster[1].commitIndex, before)
                cluster.resumeDisks()
                XCTAssertEqual(cluster[1].commitIndex, first.index)
                continue
            }
            XCTAssertEqual(cluster[2].lastIndex, first.index)
            XCTAssertEqual(cluster[3].lastIndex, first.index)
            XCTAssertEqual(cluster[1].commitIndex, first.index, "committed on the followers' syncs")
            cluster.resumeDisks()

            cluster.stallDisk(1)
            cluster.stallDisk(2)
            cluster.cut(from: 2, to: 1)
            let second = try cluster[1].propose([2])
            cluster.deliverAll()
            XCTAssertEqual(cluster[3].lastIndex, second.index, "the append left before the leader's write was durable")
            XCTAssertEqual(cluster[1].commitIndex, first.index, "the leader's unsynced write does not count")
            cluster.resumeDisks()
            XCTAssertEqual(cluster[1].commitIndex, second.index, "the leader's report and follower 3 are a majority")
            cluster.heal()
            cluster.tick(2)
            for id: NodeID in [1, 2, 3] {
                XCTAssertEqual(cluster.appliedData(id).suffix(2), [[1], [2]], "state machine of \(id)")
            }
        }
    }

    /// A streaming follower learns the commit index from a `commitNotice` and does not
    /// answer it: after one proposal, the only answers are those to the append with the entry.
    func testCommitNoticeAdvancesTheFollowersCommitWithoutAnAnswer() throws {
        let cluster = LocalCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        cluster.clearSent()
        try cluster[1].propose([42])
        cluster.deliverAll()
        let notices = cluster.sent.filter { $0.kind == .commitNotice }
        XCTAssertEqual(notices.map(\.to).sorted(), [2, 3])
        let answers = cluster.sent.filter { $0.kind == .appendResponse }
        XCTAssertEqual(answers.count, 2, "one answer per follower, to the append carrying the entry")
        for id: NodeID in [2, 3] {
            XCTAssertEqual(cluster[id].commitIndex, cluster[1].commitIndex, "commit index of \(id)")
            XCTAssertEqual(cluster.appliedData(id).last, [42])
        }
    }

    /// A notice naming an entry the follower does not hold (the append carrying it was lost)
    /// commits nothing past the follower's log, and the follower still catches up later.
    func testCommitNoticeForAnEntryTheFollowerLacksCommitsNothingBeyondItsLog() throws {
        let cluster = LocalCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        let before = cluster[3].commitIndex
        cluster.cut(from: 1, to: 3)
        try cluster[1].propose([7])
        cluster.deliverAll()
        cluster.heal()
        var notice = Message(kind: .commitNotice, from: 1, to: 3, term: cluster[1].currentTerm)
        notice.index = cluster[1].commitIndex
        notice.logTerm = cluster[1].currentTerm
        notice.commit = cluster[1].commitIndex
        try cluster[3].step(notice)
        XCTAssertEqual(cluster[3].commitIndex, before, "n3 never received the entry the notice names")
        for _ in 0..<3 { cluster.tick(); cluster.deliverAll() }
        XCTAssertEqual(cluster.appliedData(3).last, [7], "heartbeats bring n3 the entry afterwards")
    }

    /// Pipelining: with acknowledgements from n2 lost, the leader streams at most
    /// `inflightAppendsMax` appends to it, then waits (bounded memory per follower).
    /// (One entry per append, so 20 proposals need more appends than the window allows.)
    func testLeaderKeepsAtMostInflightAppendsMaxUnacknowledgedAppendsPerFollower() throws {
        let cluster = LocalCluster(voters: [1, 2, 3]) { id in
            var options = RaftOptions(id: id)
            options.inflightAppendsMax = 4
            options.entriesPerAppendMax = 1
            return options
        }
        cluster.campaign(1)
        cluster.cut(from: 2, to: 1)
        cluster.clearSent()
        for index in 0..<20 { try cluster[1].propose([UInt8(index)]) }
        cluster.deliverAll()
        let appendsTo2 = cluster.sent.filter { $0.kind == .append && $0.to == 2 }
        XCTAssertEqual(appendsTo2.count, 4)
        let appendsTo3 = cluster.sent.filter { $0.kind == .append && $0.to == 3 }
        XCTAssertGreaterThan(appendsTo3.count, 4, "n3 acknowledges, so its window keeps moving")
    }

    /// Flow control: while no follower acknowledges, the leader's uncommitted tail grows
    /// only to `uncommittedBytesMax`; further proposals are dropped with a typed error, and
    /// accepted again once the backlog commits.
    func testLeaderDropsProposalsBeyondUncommittedBytesMaxUntilBacklogCommits() throws {
        let cluster = LocalCluster(voters: [1, 2, 3]) { id in
            var options = RaftOptions(id: id)
            options.uncommittedBytesMax = 1_000
            return options
        }
        cluster.campaign(1)
        cluster.isolate(1)
        var accepted = 0
        var dropped = false
        for _ in 0..<100 where !dropped {
            do {
                try cluster[1].propose([UInt8](repeating: 7, count: 100))
                accepted += 1
            } catch RaftError.proposalDropped {
                dropped = true
            }
        }
        XCTAssertTrue(dropped)
        XCTAssertEqual(accepted, 10)
        cluster.heal()
        cluster.tick(2)
        XCTAssertNoThrow(try cluster[1].propose([1]))
        cluster.tick(1)
        XCTAssertEqual(cluster.appliedData(3).count, accepted + 1)
    }

    /// A follower refuses an append whose entries are not contiguous: outside input is a
    /// typed error, never a crash, and the log is untouched.
    func testFollowerRejectsAppendWithGapAsMalformed() throws {
        let cluster = LocalCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        var append = Message(kind: .append, from: 1, to: 2, term: cluster[1].currentTerm)
        append.index = 1
        append.logTerm = cluster[1].currentTerm
        append.entries = [Entry(term: append.term, index: 2, data: [1]),
                          Entry(term: append.term, index: 4, data: [2])]
        let lastIndex = cluster[2].lastIndex
        XCTAssertThrowsError(try cluster[2].step(append)) { error in
            guard case .malformedMessage = error as? RaftError else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(cluster[2].lastIndex, lastIndex)
    }
}
