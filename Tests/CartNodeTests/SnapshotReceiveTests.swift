import CartAPI
import CartDomain
@testable import CartNode
import CartRaft
import CartRPC
import CartTestSupport
import CartTypes
import CartWire
import NIOCore
import XCTest

/// How a follower takes a leader's snapshot that arrived whole (`Peer.snapshot`): decoded
/// off its loop once however often it is sent, then installed; stale, undecodable and late
/// snapshots are answered without harm.
final class SnapshotReceiveTests: XCTestCase {
    /// One partition, snapshots every 20 entries. The paths between the leader and one
    /// follower are black-holed, so the leader cannot send that follower anything; the test
    /// hands it the leader's snapshot itself, as `Peer.snapshot` would.
    func testASnapshotSentTwiceIsDecodedOnceAndInstalledAndAStaleOneIsNotDecoded() async throws {
        try await ProxiedPaths.withCluster(size: 3, partitions: 1, tweak: { $0.snapshotIntervalEntries = 20 }) { cluster, proxies in
            let (follower, target, message) = try await Self.leaderSnapshotForACutOffFollower(cluster, proxies, cart: "rc")
            let index = try XCTUnwrap(message.snapshot?.metadata.index)
            let before = try await target.loop.submit { target.appliedIndex }.get()
            XCTAssertLessThan(before, index, "the follower is behind the snapshot")

            let metrics = cluster.node(follower).metrics
            let first = target.receiveSnapshot(message)
            let again = target.receiveSnapshot(message)
            try await first.get()
            try await again.get()
            XCTAssertEqual(metrics.value(.snapshotDecodes), 1, "the second delivery waited for the first decode")
            try await eventually(10, "the follower installs the snapshot") {
                try await target.loop.submit { target.appliedIndex >= index }.get()
            }
            XCTAssertEqual(metrics.value(.snapshotsDecodedOffLoop), 1, "restore took the state decoded off the loop")
            let state = try await target.loop.submit { target.state }.get()
            let expected = try PartitionState(snapshotBytes: try XCTUnwrap(message.snapshot?.data), using: BinarySnapshotCodec())
            XCTAssertTrue(state == expected, "the follower holds exactly the leader's snapshot")
            XCTAssertNotNil(state.carts["rc"])

            // The same snapshot once more: not newer than the applied state, so Raft refuses it
            // without a decode, and no decoded state is left behind.
            try await target.receiveSnapshot(message).get()
            XCTAssertEqual(metrics.value(.snapshotDecodes), 1)
            let leftover = try await target.loop.submit { target.predecoded == nil && target.restoring == nil }.get()
            XCTAssertTrue(leftover)

            // The file was written off the loop, before the install: a restart recovers from it.
            await cluster.stop(follower)
            try await cluster.start(follower)
            let recovered = await cluster.node(follower).replicaState(0)
            XCTAssertTrue(recovered == expected, "the restarted follower recovered the installed snapshot")
        }
    }

    /// The install of a leader's snapshot resets the follower's log: a journal record, the
    /// journal's sync, then the files. Its disk stalls while it installs (journal syncs
    /// paused): the install waits off the event loop, whose probe counts no stall and whose
    /// partition keeps reporting its state; once the disk resumes the snapshot is installed.
    /// Installed on the loop, the wait for the journal stalled the whole node.
    func testAnInstallOnAStalledDiskLeavesTheLoopFree() async throws {
        try await ProxiedPaths.withCluster(size: 3, partitions: 1, tweak: { $0.snapshotIntervalEntries = 20 }) { cluster, proxies in
            let (follower, target, message) = try await Self.leaderSnapshotForACutOffFollower(cluster, proxies, cart: "sc")
            let index = try XCTUnwrap(message.snapshot?.metadata.index)

            let journal = try XCTUnwrap(cluster.node(follower).journal)
            journal.pauseSyncs(hardStates: false)
            do {
                try await target.receiveSnapshot(message).get()  // decoded and saved ahead, then handed to Raft
            } catch {
                journal.resumeSyncs()
                throw error
            }
            let during = try await readStatusesWhileStalled(cluster, node: follower, partition: 0, resuming: journal.resumeSyncs)
            XCTAssertEqual(during.loopStalls, 0, "no event loop of node \(follower) stalled")
            XCTAssertEqual(during.reports, 10, "the partition reported its state during the stall")
            XCTAssertLessThan(during.last?.appliedIndex ?? LogIndex(UInt64.max), index, "the install waited for the disk")
            try await eventually(10, "the follower installs the snapshot") {
                try await target.loop.submit { target.appliedIndex >= index }.get()
            }
            let state = try await target.loop.submit { target.state }.get()
            let expected = try PartitionState(snapshotBytes: try XCTUnwrap(message.snapshot?.data), using: BinarySnapshotCodec())
            XCTAssertTrue(state == expected, "the follower holds exactly the leader's snapshot")
        }
    }

    /// A snapshot whose state does not decode is refused (the leader hears the delivery
    /// failed) and never saved; the replica keeps serving.
    func testASnapshotThatDoesNotDecodeIsRefusedAndNotSaved() async throws {
        try await ProxiedPaths.withCluster(size: 3, partitions: 1) { cluster, _ in
            let (leader, follower) = try await leaderAndFollower(cluster)
            let target = try XCTUnwrap(cluster.node(follower).replica(0))
            let (term, applied, configuration) = try await target.loop.submit {
                (target.raft.currentTerm, target.appliedIndex, target.storage.snapshotMetadata.configuration)
            }.get()
            var message = Message(kind: .snapshot, from: leader, to: follower, term: term)
            message.snapshot = Snapshot(metadata: SnapshotMetadata(index: LogIndex(applied.rawValue + 1_000), term: term,
                                                                   configuration: configuration),
                                        data: Array(repeating: 0xFF, count: 4_096))
            do {
                try await target.receiveSnapshot(message).get()
                XCTFail("an undecodable snapshot must be refused")
            } catch let error as RPCError {
                XCTAssertEqual(error.code, .invalidArgument, "\(error)")
            }
            let (saved, stopped) = try await target.loop.submit { (target.storage.snapshotMetadata.index, target.stopped) }.get()
            XCTAssertEqual(saved, .zero, "nothing was saved")
            XCTAssertFalse(stopped)
            let alice = try cluster.client(leader, as: "alice")
            _ = try await alice.call(.cartCreate, CreateCartRequest(cart: "still-serving", request: Keys.next()))
        }
    }

    /// A replica that stopped (node shutting down) answers a snapshot with `unavailable`.
    func testAStoppedReplicaRefusesASnapshot() async throws {
        try await ProxiedPaths.withCluster(size: 3, partitions: 1) { cluster, _ in
            let (leader, follower) = try await leaderAndFollower(cluster)
            let target = try XCTUnwrap(cluster.node(follower).replica(0))
            let (term, configuration) = try await target.loop.submit {
                target.stop()
                return (target.raft.currentTerm, target.storage.snapshotMetadata.configuration)
            }.get()
            var message = Message(kind: .snapshot, from: leader, to: follower, term: term)
            message.snapshot = Snapshot(metadata: SnapshotMetadata(index: 1_000, term: term, configuration: configuration),
                                        data: [1, 2, 3])
            do {
                try await target.receiveSnapshot(message).get()
                XCTFail("a stopped replica must refuse")
            } catch let error as RPCError {
                XCTAssertEqual(error.code, .unavailable, "\(error)")
            }
        }
    }

    /// Cuts a follower off from the leader of the cluster's one partition (snapshots every 20
    /// entries), writes a cart with 60 adds through the leader, and waits for the leader's
    /// snapshot: the follower, its replica, and the snapshot message the leader would send it.
    private static func leaderSnapshotForACutOffFollower(_ cluster: TestCluster, _ proxies: ProxiedPaths, cart: CartID) async throws
        -> (follower: NodeID, target: PartitionReplica, message: Message) {
        let statuses = await cluster.node(1).partitionStatuses()
        let leader = try XCTUnwrap(statuses.first?.leader)
        XCTAssertNotEqual(leader, .none)
        let follower = try XCTUnwrap([NodeID(1), 2, 3].first { $0 != leader })
        proxies[leader, follower].blackHole()
        proxies[follower, leader].blackHole()
        let alice = try cluster.client(leader, as: "alice")
        let item = ItemID("sku-\(cart.rawValue)")
        _ = try await alice.call(.itemPut, PutItemRequest(item: item, name: item.rawValue, price: Money(minorUnits: 100),
                                                          initialStock: 1_000, request: Keys.next()))
        _ = try await alice.call(.cartCreate, CreateCartRequest(cart: cart, request: Keys.next()))
        for _ in 0..<60 {
            _ = try await alice.call(.cartAddItem, AddItemRequest(cart: cart, item: item, quantity: 1, request: Keys.next()))
        }
        let source = try XCTUnwrap(cluster.node(leader).replica(0))
        let target = try XCTUnwrap(cluster.node(follower).replica(0))
        try await eventually(20, "the leader snapshots") {
            try await source.loop.submit { source.storage.snapshotMetadata.index > .zero }.get()
        }
        let message = try await source.loop.submit { () throws -> Message in
            var message = Message(kind: .snapshot, from: leader, to: follower, term: source.raft.currentTerm)
            message.snapshot = try source.storage.snapshot()
            return message
        }.get()
        return (follower, target, message)
    }

    private func leaderAndFollower(_ cluster: TestCluster) async throws -> (NodeID, NodeID) {
        let statuses = await cluster.node(1).partitionStatuses()
        let leader = try XCTUnwrap(statuses.first?.leader)
        XCTAssertNotEqual(leader, .none)
        let follower = try XCTUnwrap([NodeID(1), 2, 3].first { $0 != leader })
        return (leader, follower)
    }
}
