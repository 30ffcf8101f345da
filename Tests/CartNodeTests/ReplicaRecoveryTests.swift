@testable import CartNode
import CartStorage
import CartTypes
import Foundation
import XCTest

/// What a replica checks about its files before it rebuilds its state from them.
final class ReplicaRecoveryTests: XCTestCase {
    /// A log compacted past the newest snapshot left (the newer snapshot file lost) misses
    /// the entries in between: the replica refuses to start, naming the gap, instead of
    /// resetting the log to the older snapshot and dropping entries it acknowledged.
    func testALogStartingAfterTheNewestSnapshotIsRefused() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("replica-recovery-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = try PartitionLog.open(directory: directory, partition: 3, options: PartitionLogOptions(segmentBytesMax: 4_096, payloadBytesMax: 1_024))
        defer { try? log.close() }
        for index in 1...300 {
            try await log.append([StoredEntry(index: LogIndex(UInt64(index)), term: 1, payload: Array(repeating: 7, count: 40))])
        }
        try PartitionReplica.checkLogContinues(snapshotIndex: .zero, log: log, partition: 3)
        try log.compactPrefix(through: 200)
        XCTAssertGreaterThan(log.firstIndex, LogIndex(1), "whole segments were dropped")

        XCTAssertThrowsError(try PartitionReplica.checkLogContinues(snapshotIndex: .zero, log: log, partition: 3)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("after its newest snapshot"), message)
            XCTAssertTrue(message.contains("are missing"), message)
        }
        XCTAssertThrowsError(try PartitionReplica.checkLogContinues(snapshotIndex: log.firstIndex.previous.previous, log: log, partition: 3))
        // The snapshot the log was compacted through, or any newer one, continues it.
        try PartitionReplica.checkLogContinues(snapshotIndex: log.firstIndex.previous, log: log, partition: 3)
        try PartitionReplica.checkLogContinues(snapshotIndex: 200, log: log, partition: 3)
        try PartitionReplica.checkLogContinues(snapshotIndex: 400, log: log, partition: 3)
    }
}
