import CartRaft
import CartRaftSimulation
import CartTypes
import XCTest

/// Snapshots, compaction and InstallSnapshot (§7).
final class SnapshotTests: XCTestCase {
    /// §7: n3 misses 30 entries while the leader compacts its log past them. When n3
    /// returns, the leader cannot send those entries any more, so it sends its snapshot;
    /// n3 installs it and then receives the entries after it by ordinary appends.
    func testFollowerBehindCompactedPrefixInstallsLeaderSnapshot() throws {
        let cluster = LocalCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        cluster.isolate(3)
        for index in 0..<30 { try cluster[1].propose([UInt8(index)]) }
        cluster.tick(1)
        cluster.compact(1, data: Array("state@31".utf8))
        XCTAssertEqual(try cluster.storages[1]!.firstIndex(), 32)
        try cluster[1].propose([99])
        cluster.heal()
        cluster.tick(3)
        let installed = try XCTUnwrap(cluster.installedSnapshots[3]!.first)
        XCTAssertEqual(installed.metadata.index, 31)
        XCTAssertEqual(installed.data, Array("state@31".utf8))
        XCTAssertEqual(cluster.appliedData(3), [[99]], "only the entry after the snapshot is applied")
        XCTAssertEqual(cluster[3].commitIndex, cluster[1].commitIndex)
        XCTAssertEqual(cluster[3].appliedIndex, 32)
        XCTAssertEqual(try cluster.storages[3]!.firstIndex(), 32)
    }

    /// A node that restarts from a compacted storage resumes from its snapshot: it applies
    /// only what follows it, and can still lead.
    func testNodeRestartedFromCompactedStorageResumesAfterSnapshot() throws {
        let cluster = LocalCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        for index in 0..<10 { try cluster[1].propose([UInt8(index)]) }
        cluster.tick(1)
        cluster.compact(2)
        cluster.restart(2)
        XCTAssertEqual(cluster[2].appliedIndex, 11)
        try cluster[1].propose([42])
        cluster.tick(2)
        XCTAssertEqual(cluster.appliedData(2), [[42]])
        try cluster[1].transferLeadership(to: 2)
        cluster.tick(2)
        XCTAssertEqual(cluster[2].currentRole, .leader)
    }

    /// A snapshot that is older than what the follower already committed changes nothing.
    func testStaleSnapshotIsIgnored() throws {
        let cluster = LocalCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        for index in 0..<5 { try cluster[1].propose([UInt8(index)]) }
        cluster.tick(1)
        let term = cluster[1].currentTerm
        var message = Message(kind: .snapshot, from: 1, to: 2, term: term)
        message.snapshot = Snapshot(
            metadata: SnapshotMetadata(index: 2, term: term, configuration: cluster[1].members), data: [])
        try cluster.inject(message)
        XCTAssertTrue(cluster.installedSnapshots[2]!.isEmpty)
        XCTAssertEqual(cluster[2].lastIndex, 6)
    }
}
