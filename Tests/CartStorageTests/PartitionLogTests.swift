import CartTypes
import XCTest
@testable import CartStorage

final class PartitionLogTests: XCTestCase {
    /// A new log is empty; appended entries read back byte for byte, also after a reopen.
    func testAppendedEntriesReadBackAfterReopen() throws {
        let directory = TemporaryDirectory()
        var log: PartitionLog? = try PartitionLog.open(directory: directory.path, partition: 3, options: options(), logger: quietLogger)
        XCTAssertEqual(log!.firstIndex, 1)
        XCTAssertEqual(log!.lastIndex, 0)
        let written = makeEntries(from: 1, count: 10, term: 1) + makeEntries(from: 11, count: 5, term: 2, payloadBytes: 0)
        try log!.appendAndWait(Array(written[0..<10]))
        try log!.appendAndWait(Array(written[10...]))
        XCTAssertEqual(try log!.allEntries(), written)
        XCTAssertEqual(try log!.term(at: 12), 2)
        try log!.close()
        log = nil

        let reopened = try PartitionLog.open(directory: directory.path, partition: 3, options: options(), logger: quietLogger)
        XCTAssertEqual(try reopened.allEntries(), written)
        XCTAssertEqual(try reopened.entries(from: 4, through: 6), Array(written[3...5]))
    }

    /// Raft hands the log contiguous entries; a gap, a rewrite without truncation, a falling
    /// term or an oversized payload is the caller's bug or bad input and gets a typed error.
    func testAppendsThatBreakTheLogShapeAreRefusedWithTypedErrors() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog.open(directory: directory.path, partition: 0, options: options(), logger: quietLogger)
        try log.appendAndWait(makeEntries(from: 1, count: 3, term: 2))
        XCTAssertThrowsError(try log.appendAndWait(makeEntries(from: 5, count: 1, term: 2))) {
            XCTAssertEqual($0 as? StorageError, .nonContiguousAppend(expected: 4, got: 5))
        }
        XCTAssertThrowsError(try log.appendAndWait(makeEntries(from: 3, count: 1, term: 2))) {
            XCTAssertEqual(($0 as? StorageError)?.code, "storage.non_contiguous_append")
        }
        XCTAssertThrowsError(try log.appendAndWait(makeEntries(from: 4, count: 1, term: 1))) {
            XCTAssertEqual($0 as? StorageError, .termRegression(index: 4, term: 1, previousTerm: 2))
        }
        XCTAssertThrowsError(try log.appendAndWait(makeEntries(from: 4, count: 1, term: 2, payloadBytes: 4097))) {
            XCTAssertEqual($0 as? StorageError, .entryTooLarge(payloadBytes: 4097, payloadBytesMax: 4096))
        }
        XCTAssertThrowsError(try log.entries(from: 2, through: 4)) {
            XCTAssertEqual($0 as? StorageError, .indexOutOfRange(requested: 4, firstIndex: 1, lastIndex: 3))
        }
        XCTAssertEqual(try log.allEntries(), makeEntries(from: 1, count: 3, term: 2))
    }

    /// A follower whose uncommitted suffix conflicts with the leader truncates it and appends
    /// the leader's entries (§5.3); across segment boundaries and after a reopen.
    func testTruncateThenAppendReplacesTheConflictingSuffix() throws {
        let directory = TemporaryDirectory()
        let small = options(segmentBytesMax: 1024)
        var log: PartitionLog? = try PartitionLog.open(directory: directory.path, partition: 1, options: small, logger: quietLogger)
        try log!.appendAndWait(makeEntries(from: 1, count: 40, term: 1))
        XCTAssertGreaterThanOrEqual(directory.segmentPaths().count, 3, "the test must span several segments")
        try log!.truncateSuffix(after: 12)
        XCTAssertEqual(log!.lastIndex, 12)
        try log!.appendAndWait(makeEntries(from: 13, count: 5, term: 3))
        let expected = makeEntries(from: 1, count: 12, term: 1) + makeEntries(from: 13, count: 5, term: 3)
        XCTAssertEqual(try log!.allEntries(), expected)
        try log!.close()
        log = nil
        let reopened = try PartitionLog.open(directory: directory.path, partition: 1, options: small, logger: quietLogger)
        XCTAssertEqual(try reopened.allEntries(), expected)
    }

    /// After a snapshot at index 25 the prefix goes: whole segments below it are deleted,
    /// the boundary term still answers `term(at: 25)`, and reads below it are refused.
    func testPrefixCompactionAcrossSegmentBoundariesDeletesOldSegments() throws {
        let directory = TemporaryDirectory()
        let small = options(segmentBytesMax: 1024)
        var log: PartitionLog? = try PartitionLog.open(directory: directory.path, partition: 1, options: small, logger: quietLogger)
        try log!.appendAndWait(makeEntries(from: 1, count: 20, term: 1) + makeEntries(from: 21, count: 20, term: 2))
        let segmentsBefore = directory.segmentPaths().count
        try log!.compactPrefix(through: 25)
        XCTAssertLessThan(directory.segmentPaths().count, segmentsBefore)
        XCTAssertEqual(log!.firstIndex, 26)
        XCTAssertEqual(try log!.term(at: 25), 2)
        XCTAssertThrowsError(try log!.entries(from: 24, through: 30))
        try log!.appendAndWait(makeEntries(from: 41, count: 3, term: 2))
        try log!.close()
        log = nil
        let reopened = try PartitionLog.open(directory: directory.path, partition: 1, options: small, logger: quietLogger)
        XCTAssertEqual(reopened.firstIndex, 26)
        XCTAssertEqual(try reopened.term(at: 25), 2)
        XCTAssertEqual(try reopened.allEntries(), makeEntries(from: 26, count: 18, term: 2))
    }

    /// A follower installing a leader snapshot beyond its log drops everything and continues
    /// after the snapshot index.
    func testResetForSnapshotStartsTheLogAfterTheSnapshot() throws {
        let directory = TemporaryDirectory()
        var log: PartitionLog? = try PartitionLog.open(directory: directory.path, partition: 2, options: options(), logger: quietLogger)
        try log!.appendAndWait(makeEntries(from: 1, count: 5, term: 1))
        try log!.resetForSnapshot(index: 100, term: 7)
        XCTAssertEqual(log!.firstIndex, 101)
        XCTAssertEqual(log!.lastIndex, 100)
        try log!.appendAndWait(makeEntries(from: 101, count: 2, term: 7))
        try log!.close()
        log = nil
        let reopened = try PartitionLog.open(directory: directory.path, partition: 2, options: options(), logger: quietLogger)
        XCTAssertEqual(try reopened.term(at: 100), 7)
        XCTAssertEqual(try reopened.allEntries(), makeEntries(from: 101, count: 2, term: 7))
    }

    /// A seeded random mix of appends, truncations and compactions with tiny segments; after
    /// every operation the log is closed and reopened and must equal an in-memory model.
    func testReopenAfterEveryOperationGivesTheSameLog() throws {
        let seed: UInt64 = 0x5EED_0001
        var random = SeededRandom(seed: seed)
        let directory = TemporaryDirectory()
        let small = options(segmentBytesMax: 512, sync: .none)
        var model: [StoredEntry] = []
        var firstIndex: UInt64 = 1
        var term: UInt64 = 1
        var log = try PartitionLog.open(directory: directory.path, partition: 9, options: small, logger: quietLogger)
        for step in 0..<150 {
            let last = firstIndex + UInt64(model.count) - 1
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<6:
                if Bool.random(using: &random) { term += 1 }
                let batch = makeEntries(from: last + 1, count: Int.random(in: 1...6, using: &random), term: term,
                                        payloadBytes: Int.random(in: 0...90, using: &random))
                try log.appendAndWait(batch)
                model += batch
            case 6..<8 where !model.isEmpty:
                let keep = Int.random(in: 0..<model.count, using: &random)
                try log.truncateSuffix(after: LogIndex(firstIndex - 1 + UInt64(keep)))
                model.removeLast(model.count - keep)
            case 8..<10 where !model.isEmpty:
                let drop = Int.random(in: 1...model.count, using: &random)
                try log.compactPrefix(through: LogIndex(firstIndex - 1 + UInt64(drop)))
                model.removeFirst(drop)
                firstIndex += UInt64(drop)
            default:
                continue
            }
            try log.close()
            log = try PartitionLog.open(directory: directory.path, partition: 9, options: small, logger: quietLogger)
            XCTAssertEqual(log.firstIndex, LogIndex(firstIndex), "seed \(seed) step \(step)")
            XCTAssertEqual(try log.allEntries(), model, "seed \(seed) step \(step)")
        }
    }

    /// Reads never allocate the whole range when a byte budget is given, but always return
    /// at least one entry so a large entry can still be shipped.
    func testReadsStopAtTheByteBudgetButReturnAtLeastOneEntry() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog.open(directory: directory.path, partition: 0, options: options(), logger: quietLogger)
        try log.appendAndWait(makeEntries(from: 1, count: 10, term: 1, payloadBytes: 100))
        XCTAssertEqual(try log.entries(from: 1, through: 10, payloadBytesMax: 250).count, 2)
        XCTAssertEqual(try log.entries(from: 1, through: 10, payloadBytesMax: 10).count, 1)
    }
}
