import CartTypes
import XCTest
@testable import CartStorage

final class MetadataAndSnapshotTests: XCTestCase {
    /// Term and vote survive a restart; a new log starts from the initial hard state.
    func testHardStateSurvivesReopen() throws {
        let directory = TemporaryDirectory()
        var log: PartitionLog? = try PartitionLog.open(directory: directory.path, partition: 0, options: options(), logger: quietLogger)
        XCTAssertEqual(try log!.loadHardState(), .initial)
        try log!.saveHardState(HardState(term: 5, vote: 2, commit: 17))
        try log!.saveHardState(HardState(term: 6, vote: 3, commit: 18))
        try log!.close()
        log = nil
        let reopened = try PartitionLog.open(directory: directory.path, partition: 0, options: options(), logger: quietLogger)
        XCTAssertEqual(try reopened.loadHardState(), HardState(term: 6, vote: 3, commit: 18))
    }

    /// A crash between writing the temp file and renaming it leaves a half-written (or even
    /// complete) `hardstate.tmp` beside the old file: the old state is read, never a mix, and
    /// the next save replaces the leftover.
    func testCrashBetweenWriteAndRenameLeavesTheOldHardState() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog.open(directory: directory.path, partition: 0, options: options(), logger: quietLogger)
        try log.saveHardState(HardState(term: 3, vote: 1, commit: 9))
        let path = directory.path + "/hardstate"
        let newState = MetadataFile.encode(HardState(term: 4, vote: 2, commit: 10).encoded())
        for length in [0, 7, MetadataFile.headerBytes + 5, newState.count] {
            writeFile(path + ".tmp", Array(newState.prefix(length)))
            XCTAssertEqual(try log.loadHardState(), HardState(term: 3, vote: 1, commit: 9), "temp file of \(length) bytes")
        }
        try log.saveHardState(HardState(term: 4, vote: 2, commit: 10))
        XCTAssertEqual(try log.loadHardState(), HardState(term: 4, vote: 2, commit: 10))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".tmp"))
    }

    /// A damaged hard state file is never guessed at: every flipped byte is a typed error.
    func testDamagedHardStateIsATypedError() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog.open(directory: directory.path, partition: 0, options: options(), logger: quietLogger)
        try log.saveHardState(HardState(term: 3, vote: 1, commit: 9))
        let path = directory.path + "/hardstate"
        let good = readFile(path)
        for byte in 0..<good.count {
            var bad = good
            bad[byte] ^= 0x10
            writeFile(path, bad)
            XCTAssertThrowsError(try log.loadHardState(), "byte \(byte)") {
                XCTAssertEqual(($0 as? StorageError)?.code, "storage.corrupt_metadata")
            }
        }
        writeFile(path, Array(good.dropLast()))
        XCTAssertThrowsError(try log.loadHardState())
    }

    /// The applied mark survives a reopen, starts at zero, is never guessed at when damaged
    /// (a typed error: it is not synced, so a machine crash can leave it torn), and is not
    /// written once the log is closed.
    func testAppliedMarkSurvivesReopenAndIsCheckedWhenRead() throws {
        let directory = TemporaryDirectory()
        var log: PartitionLog? = try PartitionLog.open(directory: directory.path, partition: 0, options: options(), logger: quietLogger)
        XCTAssertEqual(try log!.loadAppliedMark(), .zero)
        try log!.saveAppliedMark(41)
        try log!.saveAppliedMark(1_234)
        XCTAssertEqual(try log!.loadAppliedMark(), 1_234)
        try log!.close()
        XCTAssertThrowsError(try log!.saveAppliedMark(2_000)) { XCTAssertEqual(($0 as? StorageError)?.code, "storage.closed") }
        log = nil
        let reopened = try PartitionLog.open(directory: directory.path, partition: 0, options: options(), logger: quietLogger)
        XCTAssertEqual(try reopened.loadAppliedMark(), 1_234)
        XCTAssertEqual(try reopened.loadHardState(), .initial, "the mark is a file of its own")

        let path = directory.path + "/applied"
        let good = readFile(path)
        var bad = good
        bad[good.count - 1] ^= 0x01
        writeFile(path, bad)
        XCTAssertThrowsError(try reopened.loadAppliedMark()) { XCTAssertEqual(($0 as? StorageError)?.code, "storage.corrupt_metadata") }
        writeFile(path, [])
        XCTAssertThrowsError(try reopened.loadAppliedMark())
    }

    /// Snapshots read back exactly; only the newest N are kept.
    func testSnapshotsKeepTheNewestN() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog.open(directory: directory.path, partition: 0, options: options(), logger: quietLogger)
        XCTAssertNil(try log.snapshots.loadLatest())
        for index in stride(from: 10, through: 50, by: 10) {
            try log.snapshots.save(Snapshot(lastIndex: LogIndex(UInt64(index)), term: 2, data: Array("state at \(index)".utf8)))
        }
        XCTAssertEqual(try log.snapshots.list().map(\.lastIndex), [50, 40])
        XCTAssertEqual(try log.snapshots.loadLatest(), Snapshot(lastIndex: 50, term: 2, data: Array("state at 50".utf8)))
    }

    /// A flipped bit, a truncated file or a header that disagrees with the file name is
    /// reported as a corrupt snapshot, never loaded.
    func testCorruptSnapshotIsDetected() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog.open(directory: directory.path, partition: 0, options: options(), logger: quietLogger)
        try log.snapshots.save(Snapshot(lastIndex: 7, term: 1, data: [UInt8](repeating: 0xAB, count: 300)))
        let path = log.snapshots.directory + "/" + SnapshotStore.fileName(lastIndex: 7, term: 1)
        let good = readFile(path)
        var random = SeededRandom(seed: 99)
        for _ in 0..<40 {
            var bad = good
            bad[Int.random(in: 0..<bad.count, using: &random)] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &random)
            writeFile(path, bad)
            XCTAssertThrowsError(try log.snapshots.loadLatest()) {
                XCTAssertEqual(($0 as? StorageError)?.code, "storage.corrupt_snapshot")
            }
        }
        writeFile(path, Array(good.dropLast(10)))
        XCTAssertThrowsError(try log.snapshots.loadLatest())
        writeFile(path, good)
        try FileManager.default.moveItem(atPath: path, toPath: log.snapshots.directory + "/" + SnapshotStore.fileName(lastIndex: 8, term: 1))
        XCTAssertThrowsError(try log.snapshots.loadLatest())
    }

    /// A snapshot being written when the node crashed is only a temp file: it is removed on
    /// open and the previous snapshot is the latest.
    func testUnfinishedSnapshotIsIgnoredAndRemovedOnOpen() throws {
        let directory = TemporaryDirectory()
        var log: PartitionLog? = try PartitionLog.open(directory: directory.path, partition: 0, options: options(), logger: quietLogger)
        try log!.snapshots.save(Snapshot(lastIndex: 7, term: 1, data: [1, 2, 3]))
        let temporary = log!.snapshots.directory + "/" + SnapshotStore.fileName(lastIndex: 9, term: 1) + ".tmp"
        writeFile(temporary, [0x53, 0x43])
        try log!.close()
        log = nil
        let reopened = try PartitionLog.open(directory: directory.path, partition: 0, options: options(), logger: quietLogger)
        XCTAssertEqual(try reopened.snapshots.loadLatest()?.lastIndex, 7)
        XCTAssertFalse(FileManager.default.fileExists(atPath: temporary))
    }
}
