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
}
