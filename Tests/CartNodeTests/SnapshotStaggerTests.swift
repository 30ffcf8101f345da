@testable import CartNode
import CartTypes
import XCTest

/// Replicas apply at about the same rate, so their snapshots must not all fall due at once.
final class SnapshotStaggerTests: XCTestCase {
    /// The 48 replicas of a 3-node, 16-partition cluster take their first snapshot spread over
    /// half an interval: every delay is in range, the same replica always gets the same one,
    /// and no tenth of the range holds more than a quarter of them.
    func testFirstSnapshotsOfEveryReplicaAreSpreadOverHalfAnInterval() {
        let interval: UInt64 = 20_000
        var delays: [UInt64] = []
        for node in 1...3 {
            for partition in 0..<16 {
                let delay = PartitionReplica.snapshotStagger(partition: PartitionID(UInt32(partition)), node: NodeID(UInt64(node)),
                                                             interval: interval)
                XCTAssertLessThan(delay, interval / 2)
                XCTAssertEqual(delay, PartitionReplica.snapshotStagger(partition: PartitionID(UInt32(partition)),
                                                                       node: NodeID(UInt64(node)), interval: interval))
                delays.append(delay)
            }
        }
        let buckets = Dictionary(grouping: delays) { $0 / (interval / 20) }
        XCTAssertLessThanOrEqual(buckets.values.map(\.count).max() ?? 0, delays.count / 4)
        XCTAssertGreaterThan(Set(delays).count, 40, "replicas get different delays")
        XCTAssertEqual(PartitionReplica.snapshotStagger(partition: PartitionID(3), node: NodeID(1), interval: 1), 0)
    }

    /// A snapshot falls due after `interval` entries, and only once the log since the last
    /// one is at least as large as that snapshot: a large state is not re-encoded every
    /// `interval` small entries.
    func testASnapshotWaitsUntilTheLogSinceTheLastOneIsAsLargeAsIt() {
        func due(_ applied: UInt64, floor: UInt64, bytesSince: Int, last: Int) -> Bool {
            PartitionReplica.snapshotDue(applied: LogIndex(applied), floor: LogIndex(floor), interval: 100, firstDelay: 30,
                                         bytesSince: bytesSince, lastSnapshotBytes: last)
        }
        XCTAssertFalse(due(129, floor: 0, bytesSince: 10_000, last: 0), "the first one comes the stagger later")
        XCTAssertTrue(due(130, floor: 0, bytesSince: 10_000, last: 0))
        XCTAssertFalse(due(199, floor: 100, bytesSince: 1 << 30, last: 10), "never before the interval")
        XCTAssertTrue(due(200, floor: 100, bytesSince: 6_000, last: 6_000))
        XCTAssertFalse(due(1_099, floor: 100, bytesSince: 5_999, last: 6_000), "a log smaller than the state waits")
        XCTAssertTrue(due(1_100, floor: 100, bytesSince: 5_999, last: 6_000), "but not beyond ten intervals")
    }
}
