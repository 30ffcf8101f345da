import CartTypes
import Foundation
import XCTest
@testable import CartStorage

#if canImport(Glibc)
import Glibc
#endif

/// Writes that fail on a real file, the way a file system that runs out of room fails them:
/// the process's file size limit (`RLIMIT_FSIZE`) makes `pwrite` stop short at the limit and
/// then fail with EFBIG, and `posix_fallocate` past it fail at once. A failed write stops the
/// log as a failed sync does; nothing is written twice, nothing is reported durable that is
/// not, and reopening gives back every acknowledged entry.
final class WriteFailureTests: XCTestCase {
    private let entryRecordBytes = RecordFormat.recordBytes(payloadBytes: 40)

    /// Entries 6...8 are written across the limit: the first 30 bytes of their records reach
    /// the file, then `pwrite` fails. Appending 6...8 again must not write them after the stale ones (which
    /// recovery would refuse as corruption once later records prove the spot synced, or cut
    /// as a torn tail with acknowledged entries): the log stays stopped with the same error.
    /// Reopening cuts the partial record and continues after entry 5.
    func testAFailedWriteStopsTheLogSoNoRecordIsWrittenTwice() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog.open(directory: directory.path, partition: 0, options: options(), logger: quietLogger)
        try log.appendAndWait(makeEntries(from: 1, count: 5, term: 1))
        let segment = try XCTUnwrap(directory.segmentPaths().first)
        let writeError = StorageError.io(operation: "pwrite", path: segment, errno: EFBIG)

        let failed = withFileSizeLimit(5 * entryRecordBytes + 30) {
            Result { try log.append(makeEntries(from: 6, count: 3, term: 1)) { _ in XCTFail("a failed append completed") } }
        }
        XCTAssertThrowsError(try failed.get()) { XCTAssertEqual($0 as? StorageError, writeError) }
        XCTAssertEqual(log.lastIndex, 5)

        XCTAssertThrowsError(try log.append(makeEntries(from: 6, count: 3, term: 1)) { _ in }) {
            XCTAssertEqual($0 as? StorageError, writeError, "a log stopped by a failed write must stay stopped")
        }
        XCTAssertThrowsError(try log.sync()) { XCTAssertEqual($0 as? StorageError, writeError) }
        XCTAssertThrowsError(try log.entries(from: 1, through: 5)) { XCTAssertEqual($0 as? StorageError, writeError) }
        try log.close()

        let reopened = try PartitionLog.open(directory: directory.path, partition: 0, options: options(), logger: quietLogger)
        XCTAssertEqual(try reopened.allEntries(), makeEntries(from: 1, count: 5, term: 1))
        try reopened.appendAndWait(makeEntries(from: 6, count: 5, term: 1))
        try reopened.close()
        let again = try PartitionLog.open(directory: directory.path, partition: 0, options: options(), logger: quietLogger)
        XCTAssertEqual(try again.allEntries(), makeEntries(from: 1, count: 10, term: 1))
        try again.close()
    }

    /// A journaled log buffers acknowledged entries 1...3 (durable in the journal only); the
    /// append that fills the buffer fails to write it. The log stops: the buffered records
    /// are never written again in front of a retry, its close fails, and a checkpoint (even
    /// after that close) fails instead of telling the journal the file holds them, which
    /// would let it delete their only durable copy. After the crash, replay brings 1...3 back.
    func testAFailedWriteOfBufferedRecordsLeavesThemToTheJournal() throws {
        let directory = TemporaryDirectory()
        let journalOptions = NodeJournal.Options(journalBytesMax: 1 << 20)
        let logOptions = options(segmentBytesMax: 1 << 20)
        let journal = try NodeJournal.open(directory: directory.path + "/journal", options: journalOptions, logger: quietLogger)
        let log = try PartitionLog.open(directory: directory.path + "/partition", partition: 3, options: logOptions,
                                        journal: journal, logger: quietLogger)
        try log.appendAndWait(makeEntries(from: 1, count: 3, term: 1))
        let segment = try XCTUnwrap(directory.segmentPaths("partition").first)
        XCTAssertEqual(readFile(segment).prefix(entryRecordBytes), ArraySlice(repeating: 0, count: entryRecordBytes),
                       "entries 1...3 wait in the log's buffer")
        let writeError = StorageError.io(operation: "pwrite", path: segment, errno: EFBIG)

        let filling = makeEntries(from: 4, count: 16, term: 1, payloadBytes: 4096)  // > 64 KiB: the buffer is written
        let failed = withFileSizeLimit(16 * 1024) {
            Result { try log.append(filling) { _ in XCTFail("a failed append completed") } }
        }
        XCTAssertThrowsError(try failed.get()) { XCTAssertEqual($0 as? StorageError, writeError) }
        XCTAssertEqual(log.lastIndex, 3)

        XCTAssertThrowsError(try log.append(filling) { _ in }) { XCTAssertEqual($0 as? StorageError, writeError) }
        XCTAssertThrowsError(try log.sync()) { XCTAssertEqual($0 as? StorageError, writeError) }
        XCTAssertThrowsError(try log.close()) { XCTAssertEqual($0 as? StorageError, writeError) }
        XCTAssertThrowsError(try journal.checkpoint(), "a checkpoint must not drop the records of a log whose close failed") {
            XCTAssertEqual($0 as? StorageError, writeError)
        }
        journal.close()
        XCTAssertTrue(try NodeJournal.hasFiles(in: directory.path + "/journal"))

        let reopenedJournal = try NodeJournal.open(directory: directory.path + "/journal", options: journalOptions,
                                                   logger: quietLogger)
        defer { reopenedJournal.close() }
        let reopened = try PartitionLog.open(directory: directory.path + "/partition", partition: 3, options: logOptions,
                                             journal: reopenedJournal, logger: quietLogger)
        XCTAssertEqual(try reopened.allEntries(), makeEntries(from: 1, count: 3, term: 1))
        try reopened.appendAndWait(filling)
        XCTAssertEqual(try reopened.allEntries(), makeEntries(from: 1, count: 3, term: 1) + filling)
        try reopened.close()
    }

    /// A journaled log rolls off the appender's thread, and the next segment cannot be
    /// created (a directory holds its name). Entries 29...35, acknowledged through the
    /// journal, exist only in the roll's memory and the journal: the log stops with the
    /// creation's error, reads included, and no checkpoint may claim the files hold them.
    /// Reopened (the name free again), replay brings every acknowledged entry back.
    func testARollThatCannotCreateTheNextSegmentStopsTheLogAndLeavesItsEntriesToTheJournal() throws {
        let directory = TemporaryDirectory()
        let partitionPath = directory.path + "/partition"
        let logOptions = options(segmentBytesMax: 2048)  // 28 records of 72 bytes
        let journal = try NodeJournal.open(directory: directory.path + "/journal", logger: quietLogger)
        let log = try PartitionLog.open(directory: partitionPath, partition: 6, options: logOptions, journal: journal,
                                        logger: quietLogger)
        let blocker = partitionPath + "/" + Segment.fileName(sequence: 2)
        try FileManager.default.createDirectory(atPath: blocker, withIntermediateDirectories: false)
        try log.appendAndWait(makeEntries(from: 1, count: 28, term: 1))
        try log.appendAndWait(makeEntries(from: 29, count: 7, term: 1))  // starts the roll; durable in the journal

        var stoppedBy: StorageError?
        for _ in 0..<1000 where stoppedBy == nil {
            do { _ = try log.entries(from: 1, through: 35) } catch { stoppedBy = error as? StorageError }
            if stoppedBy == nil { Thread.sleep(forTimeInterval: 0.01) }
        }
        let error = try XCTUnwrap(stoppedBy, "the failed roll stops the log")
        XCTAssertEqual(error, .io(operation: "open", path: blocker, errno: EEXIST))
        try assertStopped(log, journal: journal, by: error, calls: [
            ("append", { try log.append(makeEntries(from: 36, count: 1, term: 1)) { _ in } }),
            ("read", { _ = try log.entries(from: 1, through: 28) }),
            ("checkpoint", { try journal.checkpoint() }),
        ])

        try FileManager.default.removeItem(atPath: blocker)
        let reopenedJournal = try NodeJournal.open(directory: directory.path + "/journal", logger: quietLogger)
        defer { reopenedJournal.close() }
        let reopened = try PartitionLog.open(directory: partitionPath, partition: 6, options: logOptions,
                                             journal: reopenedJournal, logger: quietLogger)
        XCTAssertEqual(try reopened.allEntries(), makeEntries(from: 1, count: 35, term: 1))
        try reopened.close()
    }

    /// A follower installs a snapshot at 20 (term 2) over its log 1...10: the reset writes the
    /// new boundary, deletes every segment, and then cannot create the next one
    /// (`posix_fallocate` fails). The log has no segment left: it stops, and every later call
    /// throws the creation's error instead of crashing on the missing segment. Reopening
    /// (with the journal: replaying its reset record) starts the empty log after the snapshot.
    func testAFailedSnapshotResetStopsTheLogAndReopeningStartsAfterTheSnapshot() throws {
        for journaled in [false, true] {
            let directory = TemporaryDirectory("\(#function)\(journaled)")
            let (partitionPath, journalPath) = (directory.path + "/partition", directory.path + "/journal")
            let (log, journal) = try openLogOfTen(partitionPath, journaled ? journalPath : nil)
            try log.snapshots.save(Snapshot(lastIndex: 20, term: 2, data: Array("state through 20".utf8)))
            let createError = StorageError.io(operation: "fallocate", path: partitionPath + "/" + Segment.fileName(sequence: 2),
                                              errno: EFBIG)

            let failed = withFileSizeLimit(16 * 1024) { Result { try log.resetForSnapshot(index: 20, term: 2) } }
            XCTAssertThrowsError(try failed.get()) { XCTAssertEqual($0 as? StorageError, createError, "journaled: \(journaled)") }
            XCTAssertEqual(log.statistics.segmentCount, 0)
            let calls: [(String, () throws -> Void)] = [
                ("append", { try log.append(makeEntries(from: 21, count: 1, term: 2)) { _ in } }),
                ("entries", { _ = try log.entries(from: 1, through: 10) }),
                ("term", { _ = try log.term(at: 10) }),
                ("sync", { try log.sync() }),
                ("truncateSuffix", { try log.truncateSuffix(after: 5) }),
                ("compactPrefix", { try log.compactPrefix(through: 5) }),
                ("resetForSnapshot", { try log.resetForSnapshot(index: 20, term: 2) }),
            ]
            try assertStopped(log, journal: journal, by: createError, calls: calls)

            let reopenedJournal = journaled ? try NodeJournal.open(directory: journalPath, logger: quietLogger) : nil
            defer { reopenedJournal?.close() }
            var reopened = try PartitionLog.open(directory: partitionPath, partition: 5, options: options(),
                                                 journal: reopenedJournal, logger: quietLogger)
            XCTAssertEqual(reopened.firstIndex, 21, "journaled: \(journaled)")
            XCTAssertEqual(try reopened.term(at: 20), 2)
            XCTAssertEqual(try reopened.allEntries(), [])
            XCTAssertEqual(try reopened.snapshots.loadLatest()?.lastIndex, 20)
            try reopened.appendAndWait(makeEntries(from: 21, count: 2, term: 2))
            try reopened.close()
            reopened = try PartitionLog.open(directory: partitionPath, partition: 5, options: options(),
                                             journal: reopenedJournal, logger: quietLogger)
            XCTAssertEqual(try reopened.allEntries(), makeEntries(from: 21, count: 2, term: 2))
            try reopened.close()
        }
    }

    /// A truncation cuts the file after 4, and preallocating it again after the cut fails.
    /// The log stops: every later call throws that error (the file and the index may
    /// disagree now). Reopening (with the journal:
    /// replaying its truncate record) gives the cut log, and appends go on from there.
    func testATruncationWhoseFileChangeFailsStopsTheLog() throws {
        for journaled in [false, true] {
            let directory = TemporaryDirectory("\(#function)\(journaled)")
            let (partitionPath, journalPath) = (directory.path + "/partition", directory.path + "/journal")
            let (log, journal) = try openLogOfTen(partitionPath, journaled ? journalPath : nil)
            try journal?.checkpoint()  // the records buffered for the file go into it first
            let cutError = StorageError.io(operation: "fallocate", path: partitionPath + "/" + Segment.fileName(sequence: 1),
                                           errno: EFBIG)

            let failed = withFileSizeLimit(16 * 1024) { Result { try log.truncateSuffix(after: 4) } }
            XCTAssertThrowsError(try failed.get()) { XCTAssertEqual($0 as? StorageError, cutError, "journaled: \(journaled)") }
            let calls: [(String, () throws -> Void)] = [
                ("append", { try log.append(makeEntries(from: 5, count: 1, term: 2)) { _ in } }),
                ("entries", { _ = try log.entries(from: 1, through: 4) }),
                ("truncateSuffix", { try log.truncateSuffix(after: 2) }),
                ("compactPrefix", { try log.compactPrefix(through: 2) }),
            ]
            try assertStopped(log, journal: journal, by: cutError, calls: calls)

            let reopenedJournal = journaled ? try NodeJournal.open(directory: journalPath, logger: quietLogger) : nil
            defer { reopenedJournal?.close() }
            let reopened = try PartitionLog.open(directory: partitionPath, partition: 5, options: options(),
                                                 journal: reopenedJournal, logger: quietLogger)
            XCTAssertEqual(try reopened.allEntries(), makeEntries(from: 1, count: 4, term: 1), "journaled: \(journaled)")
            try reopened.appendAndWait(makeEntries(from: 5, count: 2, term: 2))
            XCTAssertEqual(try reopened.allEntries(), makeEntries(from: 1, count: 4, term: 1) + makeEntries(from: 5, count: 2, term: 2))
            try reopened.close()
        }
    }

    /// Creating a segment or a journal file opens it and then preallocates it; here the
    /// preallocation fails. The half-made file is removed again, so creating the file at
    /// the same name afterwards succeeds (instead of failing with EEXIST) and recovery never
    /// meets a file that was never preallocated.
    func testAFileWhoseCreationFailsAfterOpeningItLeavesNothingBehind() throws {
        let directory = TemporaryDirectory()
        let segmentPath = directory.path + "/" + Segment.fileName(sequence: 7)
        let journalPath = directory.path + "/" + JournalFile.fileName(sequence: 3)
        let capacity = 64 * 1024
        let (segmentFailure, journalFailure) = withFileSizeLimit(capacity / 2) {
            (Result { try Segment.create(directory: directory.path, sequence: 7, capacityBytes: capacity, policy: .fsyncPerBatch) },
             Result { try JournalFile.create(directory: directory.path, sequence: 3, capacityBytes: capacity, policy: .fsyncPerBatch) })
        }
        XCTAssertThrowsError(try segmentFailure.get()) {
            XCTAssertEqual($0 as? StorageError, .io(operation: "fallocate", path: segmentPath, errno: EFBIG))
        }
        XCTAssertThrowsError(try journalFailure.get()) {
            XCTAssertEqual($0 as? StorageError, .io(operation: "fallocate", path: journalPath, errno: EFBIG))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: segmentPath), "a half-made segment was left behind")
        XCTAssertFalse(FileManager.default.fileExists(atPath: journalPath), "a half-made journal file was left behind")

        let segment = try Segment.create(directory: directory.path, sequence: 7, capacityBytes: capacity, policy: .fsyncPerBatch)
        XCTAssertEqual(try segment.file.sizeBytes(), capacity)
        let journalFile = try JournalFile.create(directory: directory.path, sequence: 3, capacityBytes: capacity,
                                                 policy: .fsyncPerBatch)
        XCTAssertEqual(try journalFile.file.sizeBytes(), capacity)
    }
}

/// Runs `body` with the process's file size limit (`RLIMIT_FSIZE`) lowered to `bytes`:
/// a `pwrite` reaching past it is cut short there and the next one fails with EFBIG, and
/// `posix_fallocate` past it fails with EFBIG, in every file (keep the body short). SIGXFSZ,
/// which the kernel sends along, is ignored meanwhile.
/// Partition 5's log in `partitionPath` (with a journal in `journalPath`, if given) holding
/// entries 1...10 of term 1, durable.
func openLogOfTen(_ partitionPath: String, _ journalPath: String?) throws -> (PartitionLog, NodeJournal?) {
    let journal = try journalPath.map { try NodeJournal.open(directory: $0, logger: quietLogger) }
    let log = try PartitionLog.open(directory: partitionPath, partition: 5, options: options(), journal: journal, logger: quietLogger)
    try log.appendAndWait(makeEntries(from: 1, count: 10, term: 1))
    return (log, journal)
}

/// Every call in `calls` throws `error`, the error that stopped `log`; a journaled log's
/// close throws it too (the log stays registered, so the journal keeps the records its file
/// may lack), and then its journal closes as in a crash.
func assertStopped(_ log: PartitionLog, journal: NodeJournal?, by error: StorageError, calls: [(String, () throws -> Void)],
                   file: StaticString = #filePath, line: UInt = #line) throws {
    for (name, call) in calls {
        XCTAssertThrowsError(try call(), name, file: file, line: line) { XCTAssertEqual($0 as? StorageError, error, name, file: file, line: line) }
    }
    if let journal {
        XCTAssertThrowsError(try log.close(), file: file, line: line) { XCTAssertEqual($0 as? StorageError, error, file: file, line: line) }
        journal.close()
    } else {
        try log.close()
    }
}

func withFileSizeLimit<T>(_ bytes: Int, _ body: () throws -> T) rethrows -> T {
    var saved = rlimit()
    precondition(getrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &saved) == 0)
    let previousHandler = signal(SIGXFSZ, SIG_IGN)
    var limited = saved
    limited.rlim_cur = rlim_t(bytes)
    precondition(setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &limited) == 0)
    defer {
        precondition(setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &saved) == 0)
        signal(SIGXFSZ, previousHandler)
    }
    return try body()
}
