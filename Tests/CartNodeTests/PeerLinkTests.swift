import CartAPI
import CartTestSupport
@testable import CartNode
import CartRaft
import CartTypes
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import XCTest

/// What a peer link tells the replicas about snapshot messages it could not deliver.
final class PeerLinkTests: XCTestCase {
    /// Raft pauses a follower while its snapshot is on the way, until it hears how the
    /// delivery went. Right after a follower restarts, the leader may hear from it before its
    /// own link to the follower has reconnected; a snapshot queued then is dropped for want
    /// of a connection. The link must report it failed, or the leader would wait for it
    /// forever and the follower would never catch up. Here the follower's peer port has no
    /// listener at all: the real link (real client, real TLS context) drops the batch and
    /// reports the snapshot, and only the snapshot, as failed.
    func testASnapshotDroppedForWantOfAConnectionIsReportedFailed() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let port = try freePorts(1)[0]
        let members = [
            ClusterMember(id: 1, peerAddress: "127.0.0.1:1", clientAddress: "127.0.0.1:1"),
            ClusterMember(id: 2, peerAddress: "127.0.0.1:\(port)", clientAddress: "127.0.0.1:1"),
        ]
        let metrics = NodeMetrics()
        let transport = PeerTransport(node: 1, members: members, tls: try NodeTestPKI.clientTLS.get(), eventLoopGroup: group,
                                      metrics: metrics, logger: Logger(label: "peer-link-test"))
        let listener = DeliveryLog()

        var snapshot = Message(kind: .snapshot, from: 1, to: 2, term: 3)
        snapshot.snapshot = Snapshot(metadata: SnapshotMetadata(index: 40, term: 3, configuration: Configuration(voters: [1, 2])),
                                     data: [1, 2, 3])
        var append = Message(kind: .append, from: 1, to: 2, term: 3)
        append.index = 40
        append.logTerm = 3
        transport.send([append, snapshot], partition: 5, replica: listener)

        let reports = try await listener.wait(count: 1, seconds: 10)
        XCTAssertEqual(reports, [DeliveryLog.Report(to: 2, partition: 5, succeeded: false)])
        XCTAssertEqual(metrics.value(.raftMessagesDropped), 2, "both messages were dropped")
        XCTAssertEqual(metrics.value(.raftSnapshotsUndelivered), 1, "one snapshot did not arrive")
        try await Task.sleep(for: .milliseconds(200))
        XCTAssertEqual(listener.reports.count, 1, "the append is not reported: Raft resends it on its own")

        await transport.shutdown()
        try await group.shutdownGracefully()
    }
}

/// Records snapshot delivery reports, as a replica would hear them.
private final class DeliveryLog: SnapshotDeliveryListener {
    struct Report: Hashable {
        let to: NodeID
        let partition: PartitionID
        let succeeded: Bool
    }

    private let box = NIOLockedValueBox<[Report]>([])

    var reports: [Report] { box.withLockedValue { $0 } }

    func snapshotDelivered(to node: NodeID, partition: PartitionID, succeeded: Bool) {
        box.withLockedValue { $0.append(Report(to: node, partition: partition, succeeded: succeeded)) }
    }

    func wait(count: Int, seconds: Double) async throws -> [Report] {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            let reports = self.reports
            if reports.count >= count { return reports }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("no \(count) delivery reports within \(seconds) s; got \(reports)")
    }
}
