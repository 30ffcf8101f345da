import CartTypes
import Foundation
import XCTest
@testable import CartStorage

/// Journaled partition logs: appends made durable by one node-wide journal, crash recovery
/// from the journal when partition files lose their unsynced tails, replay of truncations
/// and resets, and checkpoints.
final class NodeJournalTests: XCTestCase {
    // MARK: Group commit across partitions

    /// Sixteen partitions append from four threads without waiting for each append: every
    /// append becomes durable through journal syncs only (the partition logs never sync on
    /// the append path), syncs are shared, and a reopen gives back every entry.
    func testAppendsFromSixteenJournaledLogsOnSeveralThreadsAreDurableWithJournalSyncsOnly() throws {
        let directory = TemporaryDirectory()
        let journal = try openJournal(directory)
        let logs = try (0..<16).map { try openJournaledLog(directory, UInt32($0), journal) }
        let syncsAfterOpen = logs.map(\.statistics.dataSyncs)
        let appendsPerLog = 40
        let outcomes = OutcomeCounter()
        let threads = DispatchGroup()
        for thread in 0..<4 {
            DispatchQueue.global().async(group: threads) {
                for round in 0..<appendsPerLog {
                    for log in logs[(thread * 4)..<(thread * 4 + 4)] {
                        let entries = makeEntries(from: UInt64(round * 2 + 1), count: 2, term: 1)
                        outcomes.started()
                        do {
                            try log.append(entries) { outcomes.finished($0) }
                        } catch {
                            outcomes.finished(.failure(.closed))
                        }
                    }
                }
            }
        }
        XCTAssertEqual(threads.wait(timeout: .now() + 60), .success)
        XCTAssertTrue(outcomes.waitForAll(timeout: 60), "appends never became durable")
        XCTAssertEqual(outcomes.failures, 0)
        XCTAssertEqual(outcomes.successes, 16 * appendsPerLog)
        XCTAssertEqual(logs.map(\.statistics.dataSyncs), syncsAfterOpen, "partition logs synced on the append path")
        let journalSyncs = journal.currentStatistics.dataSyncs
        XCTAssertGreaterThan(journalSyncs, 0)
        XCTAssertLessThanOrEqual(journalSyncs, UInt64(16 * appendsPerLog))
        for log in logs { try log.close() }
        journal.close()

        let reopened = try openJournal(directory)
        defer { reopened.close() }
        for partition in 0..<16 {
            let log = try openJournaledLog(directory, UInt32(partition), reopened)
            XCTAssertEqual(try log.allEntries(), makeEntries(from: 1, count: appendsPerLog * 2, term: 1))
            try log.close()
        }
    }

    /// A clean shutdown (every log closed, then the journal) leaves no journal files: the
    /// partition files are complete on their own. A journal closed while a log is still open
    /// (a crash as far as that log is concerned) keeps its files.
    func testCleanCloseLeavesNoJournalFilesAndAnOpenLogKeepsThem() throws {
        let directory = TemporaryDirectory()
        var journal = try openJournal(directory)
        var log = try openJournaledLog(directory, 7, journal)
        try log.appendAndWait(makeEntries(from: 1, count: 3, term: 1))
        journal.close()
        XCTAssertTrue(try NodeJournal.hasFiles(in: directory.path + "/journal"))

        journal = try openJournal(directory)
        log = try openJournaledLog(directory, 7, journal)
        try log.appendAndWait(makeEntries(from: 4, count: 3, term: 1))
        try log.close()
        journal.close()
        XCTAssertFalse(try NodeJournal.hasFiles(in: directory.path + "/journal"))

        let unjournaled = try PartitionLog.open(directory: directory.path + "/partition-7", partition: PartitionID(7),
                                                options: options(), logger: quietLogger)
        XCTAssertEqual(try unjournaled.allEntries(), makeEntries(from: 1, count: 6, term: 1))
        try unjournaled.close()
    }

    // MARK: Crash recovery

    /// The node crashes after acknowledging appends; the partition files never synced them
    /// and lose their tails (cut, zeroed or overwritten with garbage), although the hard
    /// state already says they are committed. Every acknowledged entry comes back from the
    /// journal, in order.
    func testAcknowledgedEntriesComeBackFromTheJournalWhenPartitionFilesLoseTheirUnsyncedTails() throws {
        for damage in TailDamage.allCases {
            let directory = TemporaryDirectory("\(#function)\(damage)")
            let journal = try openJournal(directory)
            var logs = try (0..<4).map { try openJournaledLog(directory, UInt32($0), journal) }
            for log in logs {
                for first in stride(from: 1, through: 19, by: 2) {
                    try log.appendAndWait(makeEntries(from: UInt64(first), count: 2, term: 1))
                }
                try log.saveHardState(HardState(term: Term(1), vote: .none, commit: LogIndex(20)))
            }
            journal.close()  // the crash: the logs are never closed, their files never synced
            logs.removeAll()
            for partition in 0..<4 {
                // Partition 0 loses everything it wrote, the others from entry 8 (or a torn record in it) on.
                let offset = partition == 0 ? 0 : 7 * entryRecordBytes + (partition - 1) * 20
                damage.apply(to: directory.segmentPaths("partition-\(partition)")[0], from: offset)
            }

            let reopened = try openJournal(directory)
            defer { reopened.close() }
            for partition in 0..<4 {
                let log = try openJournaledLog(directory, UInt32(partition), reopened)
                XCTAssertEqual(try log.allEntries(), makeEntries(from: 1, count: 20, term: 1), "\(damage), partition \(partition)")
                XCTAssertEqual(try log.loadHardState().commit, LogIndex(20))
                try log.close()
            }
        }
    }

    /// The journal's last write tore (a crash during the write that would have acknowledged
    /// entries 6...8): the damaged record ends the file and only those unacknowledged
    /// entries are lost; everything before comes back although the partition file lost it.
    func testTornJournalTailLosesOnlyTheUnacknowledgedAppend() throws {
        let directory = TemporaryDirectory()
        let journal = try openJournal(directory)
        let log = try openJournaledLog(directory, 3, journal)
        for index in 1...5 { try log.appendAndWait(makeEntries(from: UInt64(index), count: 1, term: 2)) }
        try log.appendAndWait(makeEntries(from: 6, count: 3, term: 2))
        journal.close()
        TailDamage.zeroed.apply(to: directory.segmentPaths("partition-3")[0], from: 0)
        let journalPath = try XCTUnwrap(journalPaths(directory).last)
        let recordStarts = journalRecordOffsets(journalPath)
        XCTAssertEqual(recordStarts.count, 6)
        var bytes = readFile(journalPath)
        bytes[recordStarts[5] + 20] ^= 0xFF
        writeFile(journalPath, bytes)

        let reopened = try openJournal(directory)
        defer { reopened.close() }
        let recovered = try openJournaledLog(directory, 3, reopened)
        XCTAssertEqual(try recovered.allEntries(), makeEntries(from: 1, count: 5, term: 2))
        try recovered.appendAndWait(makeEntries(from: 6, count: 1, term: 3))
        try recovered.close()
    }

    // MARK: Replay of truncations and resets

    /// A follower's log is truncated (conflict) and continued in a new term, then reset for a
    /// snapshot and continued again; after each, the crash wipes the unsynced part of the
    /// partition file. Replaying the journal's append, truncate and reset records rebuilds
    /// exactly the log the follower acknowledged.
    func testReplayOfTruncateAndResetRecordsRebuildsTheAcknowledgedLog() throws {
        let directory = TemporaryDirectory()
        var journal = try openJournal(directory)
        var log = try openJournaledLog(directory, 1, journal)
        try log.appendAndWait(makeEntries(from: 1, count: 10, term: 1))
        try log.truncateSuffix(after: LogIndex(5))  // synced: the file now shows entries 1...5
        try log.appendAndWait(makeEntries(from: 6, count: 3, term: 2))
        journal.close()
        TailDamage.garbage.apply(to: directory.segmentPaths("partition-1")[0], from: 5 * entryRecordBytes)

        journal = try openJournal(directory)
        log = try openJournaledLog(directory, 1, journal)
        let expected = makeEntries(from: 1, count: 5, term: 1) + makeEntries(from: 6, count: 3, term: 2)
        XCTAssertEqual(try log.allEntries(), expected)

        try log.resetForSnapshot(index: LogIndex(20), term: Term(3))
        try log.appendAndWait(makeEntries(from: 21, count: 2, term: 3))
        journal.close()
        TailDamage.truncated.apply(to: try XCTUnwrap(directory.segmentPaths("partition-1").last), from: 0)

        journal = try openJournal(directory)
        log = try openJournaledLog(directory, 1, journal)
        XCTAssertEqual(log.firstIndex, LogIndex(21))
        XCTAssertEqual(try log.term(at: LogIndex(20)), Term(3))
        XCTAssertEqual(try log.allEntries(), makeEntries(from: 21, count: 2, term: 3))
        try log.close()
        journal.close()
    }

    /// A truncation waits for the journal's sync without holding the log's lock: while the
    /// journal's syncs are paused, the entries before the cut are read from another thread,
    /// and the cut happens once the syncs resume (a reopen after a crash sees it too).
    func testReadsOfTheLogGoOnWhileATruncationWaitsForTheJournal() throws {
        let directory = TemporaryDirectory()
        var journal = try openJournal(directory)
        var log = try openJournaledLog(directory, 2, journal)
        try log.appendAndWait(makeEntries(from: 1, count: 10, term: 1))
        journal.pauseSyncs()
        let cut = DispatchGroup()
        let outcome = LockedOutcome()
        DispatchQueue.global().async(group: cut) { [log] in
            outcome.set(Result { try log.truncateSuffix(after: LogIndex(4)); return [] })
        }
        XCTAssertEqual(cut.wait(timeout: .now() + 0.3), .timedOut, "the truncation waits for the paused journal")
        let read = DispatchGroup()
        let readIndexes = LockedOutcome()
        DispatchQueue.global().async(group: read) { [log] in
            readIndexes.set(Result { try log.entries(from: LogIndex(1), through: LogIndex(4)).map(\.index.rawValue) + [log.lastIndex.rawValue] })
        }
        XCTAssertEqual(read.wait(timeout: .now() + 5), .success, "the entries before the cut are read meanwhile")
        XCTAssertEqual(try readIndexes.get()?.get(), [1, 2, 3, 4, 10], "nothing is cut before the journal's record is durable")
        journal.resumeSyncs()
        _ = read.wait(timeout: .now() + 10)
        XCTAssertEqual(cut.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(try outcome.get()?.get(), [])
        XCTAssertEqual(log.lastIndex, LogIndex(4))
        try log.appendAndWait(makeEntries(from: 5, count: 2, term: 2))
        journal.close()  // a crash: the log never closed

        journal = try openJournal(directory)
        log = try openJournaledLog(directory, 2, journal)
        XCTAssertEqual(try log.allEntries(), makeEntries(from: 1, count: 4, term: 1) + makeEntries(from: 5, count: 2, term: 2))
        try log.close()
        journal.close()
    }

    /// A compaction writes and syncs its boundary without the log's lock: while it is held
    /// just before that write, another thread reads the log and appends to it, and a
    /// truncation waits (the two must not interleave their file changes). After a crash the
    /// log starts after the boundary and keeps the appends made meanwhile.
    func testAppendsAndReadsGoOnWhileACompactionWritesItsBoundary() throws {
        let directory = TemporaryDirectory()
        var journal = try openJournal(directory)
        var log = try openJournaledLog(directory, 5, journal)
        try log.appendAndWait(makeEntries(from: 1, count: 10, term: 1))
        let gate = DispatchSemaphore(value: 0)
        log.setBoundaryGateForTesting(gate)
        let compaction = DispatchGroup()
        let compacted = LockedOutcome()
        DispatchQueue.global().async(group: compaction) { [log] in
            compacted.set(Result { try log.compactPrefix(through: LogIndex(6)); return [] })
        }
        XCTAssertEqual(compaction.wait(timeout: .now() + 0.3), .timedOut, "the compaction waits at the gate")
        let work = DispatchGroup()
        let worked = LockedOutcome()
        DispatchQueue.global().async(group: work) { [log] in
            worked.set(Result {
                try log.appendAndWait(makeEntries(from: 11, count: 2, term: 1))
                return try log.entries(from: LogIndex(3), through: LogIndex(12)).map(\.index.rawValue) + [log.firstIndex.rawValue]
            })
        }
        XCTAssertEqual(work.wait(timeout: .now() + 10), .success, "appends and reads go on during the compaction")
        XCTAssertEqual(try worked.get()?.get(), Array(3...12) + [1], "nothing is dropped before the boundary is durable")
        let cut = DispatchGroup()
        let cutOutcome = LockedOutcome()
        DispatchQueue.global().async(group: cut) { [log] in
            cutOutcome.set(Result { try log.truncateSuffix(after: LogIndex(11)); return [] })
        }
        XCTAssertEqual(cut.wait(timeout: .now() + 0.3), .timedOut, "a truncation waits for the compaction")
        gate.signal()
        XCTAssertEqual(compaction.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(cut.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(try compacted.get()?.get(), [])
        XCTAssertEqual(try cutOutcome.get()?.get(), [])
        XCTAssertEqual(log.firstIndex, LogIndex(7))
        XCTAssertEqual(try log.allEntries(), makeEntries(from: 7, count: 5, term: 1))
        journal.close()  // a crash: the log never closed

        journal = try openJournal(directory)
        log = try openJournaledLog(directory, 5, journal)
        XCTAssertEqual(log.firstIndex, LogIndex(7))
        XCTAssertEqual(try log.allEntries(), makeEntries(from: 7, count: 5, term: 1))
        try log.close()
        journal.close()
    }

    /// A journaled log's segment fills (28 records of 72 bytes in 2 KiB) while the roll's
    /// sealing sync is held: appends and reads go on, the records of the next segment served
    /// from memory, and no next segment exists yet (it is created only after the sealed one
    /// is synced). A checkpoint, which needs every entry in the files, waits for the roll.
    /// Released, the roll creates the segment and the checkpoint writes the records into it;
    /// after a crash every entry comes back. With the roll done by the appender, the append
    /// that fills the segment waits at the gate: "appends and reads go on" fails.
    func testAppendsAndReadsGoOnWhileASegmentRolls() throws {
        let directory = TemporaryDirectory()
        var journal = try openJournal(directory)
        var log = try openJournaledLog(directory, 4, journal, segmentBytesMax: 2048)
        let gate = DispatchSemaphore(value: 0)
        log.setRollGateForTesting(gate)
        // A roll on the appender holds the log's lock at the gate: open it after a while, so
        // that such a build fails instead of hanging.
        let safety = DispatchWorkItem { gate.signal() }
        DispatchQueue.global().asyncAfter(deadline: .now() + 15, execute: safety)
        defer {
            safety.cancel()
            gate.signal()
        }
        let work = DispatchGroup()
        let worked = LockedOutcome()
        DispatchQueue.global().async(group: work) { [log] in
            worked.set(Result {
                for first in stride(from: 1, through: 36, by: 5) {
                    try log.appendAndWait(makeEntries(from: UInt64(first), count: 5, term: 1))
                }
                return try log.entries(from: LogIndex(1), through: LogIndex(40)).map(\.index.rawValue)
            })
        }
        XCTAssertEqual(work.wait(timeout: .now() + 10), .success, "appends and reads go on while the segment rolls")
        XCTAssertEqual(try worked.get()?.get(), Array(1...40))
        XCTAssertEqual(try log.entries(from: LogIndex(29), through: LogIndex(31)), makeEntries(from: 29, count: 3, term: 1),
                       "the next segment's records are read from memory")
        XCTAssertEqual(directory.segmentPaths("partition-4").count, 1, "the next segment waits for the sealing sync")

        let checkpoint = DispatchGroup()
        let checkpointed = LockedOutcome()
        DispatchQueue.global().async(group: checkpoint) { [journal] in
            checkpointed.set(Result { try journal.checkpoint(); return [] })
        }
        XCTAssertEqual(checkpoint.wait(timeout: .now() + 0.3), .timedOut, "a checkpoint waits for the roll")
        gate.signal()
        XCTAssertEqual(checkpoint.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(try checkpointed.get()?.get(), [])
        let segments = directory.segmentPaths("partition-4")
        XCTAssertEqual(segments.count, 2)
        XCTAssertNotEqual(readFile(segments[1]).prefix(entryRecordBytes), ArraySlice(repeating: 0, count: entryRecordBytes),
                          "the checkpoint wrote the next segment's records into it")
        try log.appendAndWait(makeEntries(from: 41, count: 5, term: 1))
        XCTAssertEqual(try log.allEntries(), makeEntries(from: 1, count: 45, term: 1))
        journal.close()  // a crash: the log never closed

        journal = try openJournal(directory)
        log = try openJournaledLog(directory, 4, journal, segmentBytesMax: 2048)
        XCTAssertEqual(try log.allEntries(), makeEntries(from: 1, count: 45, term: 1))
        try log.close()
        journal.close()
    }

    /// While a roll's sealing sync is held, the records of the next segment fill the roll's
    /// memory (a segment's worth: 28 records): the next append waits for the roll instead of
    /// letting memory grow, without changing anything first. A close arriving meanwhile
    /// waits for the roll too, and so does a checkpoint: the log is not closed until the
    /// roll's records are in the files, so the checkpoint cannot skip it and drop the journal
    /// records that were their only durable copy. Released, everything completes and after
    /// a crash every entry comes back.
    func testAnAppendOrACloseFindingTheRollsMemoryFullWaitsAndNoCheckpointSkipsTheLog() throws {
        let directory = TemporaryDirectory()
        var journal = try openJournal(directory)
        var log = try openJournaledLog(directory, 7, journal, segmentBytesMax: 2048)
        let gate = DispatchSemaphore(value: 0)
        log.setRollGateForTesting(gate)
        let safety = DispatchWorkItem { gate.signal() }
        DispatchQueue.global().asyncAfter(deadline: .now() + 30, execute: safety)  // never hang the suite
        defer {
            safety.cancel()
            gate.signal()
        }
        try log.appendAndWait(makeEntries(from: 1, count: 56, term: 1))  // 28 in the file, 28 in the roll's memory
        XCTAssertTrue(waitUntil { [log] in log.lock.withLock { log.pendingRoll?.inProgress ?? false } },
                      "the roll queue holds the roll at the gate")

        // Threads of their own: each call below blocks, and GCD's pool is as wide as the cores.
        let appended = LockedOutcome()
        let waiting = onThread { [log] in
            appended.set(Result { try log.appendAndWait(makeEntries(from: 57, count: 2, term: 1)); return [] })
        }
        XCTAssertEqual(waiting.wait(timeout: .now() + 0.3), .timedOut, "an append finding the roll's memory full waits")
        XCTAssertEqual(log.lastIndex, LogIndex(56), "the waiting append changed nothing yet")
        let closed = LockedOutcome()
        let closing = onThread { [log] in closed.set(Result { try log.close(); return [] }) }
        XCTAssertEqual(closing.wait(timeout: .now() + 0.3), .timedOut, "a close waits for the roll")
        let checkpointed = LockedOutcome()
        let checkpoint = onThread { [journal] in checkpointed.set(Result { try journal.checkpoint(); return [] }) }
        XCTAssertEqual(checkpoint.wait(timeout: .now() + 0.3), .timedOut,
                       "a checkpoint waits for the roll: the closing log still counts")

        gate.signal()
        for group in [waiting, closing, checkpoint] { XCTAssertEqual(group.wait(timeout: .now() + 10), .success) }
        XCTAssertEqual(try closed.get()?.get(), [])
        XCTAssertEqual(try checkpointed.get()?.get(), [])
        // The append ran before or after the close: acknowledged, or refused as closed.
        let appendAcknowledged = (try? appended.get()?.get()) != nil
        journal.close()

        journal = try openJournal(directory)
        log = try openJournaledLog(directory, 7, journal, segmentBytesMax: 2048)
        XCTAssertEqual(try log.allEntries(), makeEntries(from: 1, count: appendAcknowledged ? 58 : 56, term: 1))
        try log.close()
        journal.close()
    }

    /// A follower holding an uncommitted tail (1...10, term 1) installs a leader snapshot at 5
    /// (term 2), inside its log: the reset throws 6...10 away. A crash before the next
    /// checkpoint leaves the journal with append(1...10) and reset(5), and the files already
    /// reset. Replay must not put 6...10 (term 1) back after a term-2 boundary (the partition
    /// would refuse to open on every restart): the log opens empty after the snapshot, and
    /// appends and the next crash go on as usual.
    func testReplayDoesNotBringBackEntriesALaterResetThrewAway() throws {
        let directory = TemporaryDirectory()
        var journal = try openJournal(directory)
        var log = try openJournaledLog(directory, 3, journal)
        try log.appendAndWait(makeEntries(from: 1, count: 10, term: 1))
        try log.resetForSnapshot(index: LogIndex(5), term: Term(2))
        journal.close()  // a crash: the log never closed, the journal keeps its records

        journal = try openJournal(directory)
        log = try openJournaledLog(directory, 3, journal)
        XCTAssertEqual(log.firstIndex, LogIndex(6))
        XCTAssertEqual(log.lastIndex, LogIndex(5))
        XCTAssertEqual(try log.term(at: LogIndex(5)), Term(2))
        try log.appendAndWait(makeEntries(from: 6, count: 3, term: 2))
        journal.close()

        journal = try openJournal(directory)
        log = try openJournaledLog(directory, 3, journal)
        XCTAssertEqual(try log.allEntries(), makeEntries(from: 6, count: 3, term: 2))
        try log.close()
        journal.close()
    }

    /// The same for a truncation: append(5...10, term 2), a conflict truncates to 4, the new
    /// leader's append(5...12, term 3), then a snapshot compacts through 8, and a crash. The
    /// first record's 9...10 (term 2) must not be written after the term-3 boundary.
    func testReplayDoesNotBringBackEntriesALaterTruncationThrewAway() throws {
        let directory = TemporaryDirectory()
        var journal = try openJournal(directory)
        var log = try openJournaledLog(directory, 4, journal)
        try log.appendAndWait(makeEntries(from: 1, count: 4, term: 1))
        try journal.checkpoint()
        try log.appendAndWait(makeEntries(from: 5, count: 6, term: 2))
        try log.truncateSuffix(after: LogIndex(4))
        try log.appendAndWait(makeEntries(from: 5, count: 8, term: 3))
        try log.compactPrefix(through: LogIndex(8))
        journal.close()

        journal = try openJournal(directory)
        log = try openJournaledLog(directory, 4, journal)
        XCTAssertEqual(log.firstIndex, LogIndex(9))
        XCTAssertEqual(try log.allEntries(), makeEntries(from: 9, count: 4, term: 3))
        try log.close()
        journal.close()
    }

    /// A snapshot lets the log compact through 8 while entries 5...10 are still only in the
    /// page cache of the partition file (durable in the journal); the crash leaves the file
    /// with entries 1...4, below the new boundary. Recovery starts a fresh segment after the
    /// boundary and the journal brings back 9...10; later appends and a second crash are fine.
    func testCompactionPastTheUnsyncedPartOfTheFileSurvivesACrash() throws {
        let directory = TemporaryDirectory()
        var journal = try openJournal(directory)
        var log = try openJournaledLog(directory, 8, journal)
        try log.appendAndWait(makeEntries(from: 1, count: 10, term: 1))
        try log.compactPrefix(through: LogIndex(8))
        journal.close()
        TailDamage.garbage.apply(to: directory.segmentPaths("partition-8")[0], from: 4 * entryRecordBytes)

        journal = try openJournal(directory)
        log = try openJournaledLog(directory, 8, journal)
        XCTAssertEqual(log.firstIndex, LogIndex(9))
        XCTAssertEqual(try log.allEntries(), makeEntries(from: 9, count: 2, term: 1))
        try log.appendAndWait(makeEntries(from: 11, count: 2, term: 1))
        journal.close()

        journal = try openJournal(directory)
        log = try openJournaledLog(directory, 8, journal)
        XCTAssertEqual(try log.allEntries(), makeEntries(from: 9, count: 4, term: 1))
        try log.close()
        journal.close()
    }

    /// After a checkpoint the journal holds append(4...6), then a truncation to 1 (synced:
    /// the partition file shows only entry 1), then append(2...3) in a new term, which the
    /// crash wipes from the file. Replaying append(4...6) would leave a gap after 1: it is
    /// skipped, and the truncation and the later append rebuild the acknowledged log.
    func testAppendRecordBeyondTheEndOfTheFileIsSkippedBecauseALaterTruncationExplainsTheGap() throws {
        let directory = TemporaryDirectory()
        var journal = try openJournal(directory)
        var log = try openJournaledLog(directory, 2, journal)
        try log.appendAndWait(makeEntries(from: 1, count: 3, term: 1))
        try journal.checkpoint()
        try log.appendAndWait(makeEntries(from: 4, count: 3, term: 1))
        try log.truncateSuffix(after: LogIndex(1))
        try log.appendAndWait(makeEntries(from: 2, count: 2, term: 2))
        journal.close()
        TailDamage.zeroed.apply(to: directory.segmentPaths("partition-2")[0], from: entryRecordBytes)

        journal = try openJournal(directory)
        log = try openJournaledLog(directory, 2, journal)
        XCTAssertEqual(try log.allEntries(), makeEntries(from: 1, count: 1, term: 1) + makeEntries(from: 2, count: 2, term: 2))
        try log.close()
        journal.close()
    }

    /// A journaled log keeps small appends out of its segment file (the journal holds them):
    /// they are still readable at once, reach the file at a checkpoint, and a crash that
    /// loses them from the process brings them back from the journal.
    func testRecordsNotYetInTheSegmentAreReadableAndSurviveACrash() throws {
        let directory = TemporaryDirectory()
        let journal = try openJournal(directory)
        var log: PartitionLog? = try openJournaledLog(directory, 2, journal)
        try log!.appendAndWait(makeEntries(from: 1, count: 3, term: 1))
        let segment = directory.segmentPaths("partition-2")[0]
        XCTAssertEqual(readFile(segment).prefix(entryRecordBytes), ArraySlice(repeating: 0, count: entryRecordBytes),
                       "small appends wait outside the segment")
        XCTAssertEqual(try log!.entries(from: LogIndex(2), through: LogIndex(3)), makeEntries(from: 2, count: 2, term: 1))
        try log!.appendAndWait(makeEntries(from: 4, count: 2, term: 1))
        try journal.checkpoint()
        XCTAssertNotEqual(readFile(segment).prefix(5 * entryRecordBytes).suffix(entryRecordBytes),
                          ArraySlice(repeating: 0, count: entryRecordBytes), "a checkpoint writes them")
        try log!.appendAndWait(makeEntries(from: 6, count: 2, term: 1))
        journal.close()  // the crash: entries 6...7 never left the process
        log = nil

        let reopened = try openJournal(directory)
        defer { reopened.close() }
        let recovered = try openJournaledLog(directory, 2, reopened)
        XCTAssertEqual(try recovered.allEntries(), makeEntries(from: 1, count: 7, term: 1))
        try recovered.close()
    }

    /// A log closed and reopened on the same journal (no restart) neither replays the
    /// journal's records again nor loses what it appended in between.
    func testLogReopenedOnTheSameJournalKeepsItsEntries() throws {
        let directory = TemporaryDirectory()
        let journal = try openJournal(directory)
        defer { journal.close() }
        var log = try openJournaledLog(directory, 4, journal)
        try log.appendAndWait(makeEntries(from: 1, count: 4, term: 1))
        try log.close()
        log = try openJournaledLog(directory, 4, journal)
        try log.appendAndWait(makeEntries(from: 5, count: 4, term: 1))
        try log.close()
        log = try openJournaledLog(directory, 4, journal)
        XCTAssertEqual(try log.allEntries(), makeEntries(from: 1, count: 8, term: 1))
        try log.close()
    }

    // MARK: Checkpoints

    /// The journal holds every log it covers until the log closes: a log its owner dropped
    /// without closing is still synced by the next checkpoint before the journal files that
    /// hold its acknowledged records are deleted, and every entry comes back on reopen.
    func testALogDroppedWithoutClosingStaysCoveredUntilACheckpointSyncsIt() throws {
        let directory = TemporaryDirectory()
        let journal = try openJournal(directory)
        var log: PartitionLog? = try openJournaledLog(directory, 0, journal)
        for first in stride(from: 1, through: 19, by: 2) {
            try log?.appendAndWait(makeEntries(from: UInt64(first), count: 2, term: 1))
        }
        weak let dropped = log
        log = nil
        XCTAssertNotNil(dropped, "the journal keeps the unclosed log")
        let filesBefore = journalPaths(directory)
        try journal.checkpoint()
        XCTAssertFalse(Set(journalPaths(directory)).isSuperset(of: filesBefore), "the checkpoint deleted the older files")
        try dropped?.close()
        XCTAssertNil(dropped, "closing releases it")
        journal.close()

        let reopened = try openJournal(directory)
        defer { reopened.close() }
        let again = try openJournaledLog(directory, 0, reopened)
        XCTAssertEqual(try again.allEntries(), makeEntries(from: 1, count: 20, term: 1))
        try again.close()
    }

    /// Appends pass `journalBytesMax` several times: checkpoints delete the older journal
    /// files (at most the active one and one being replaced remain), and after a crash that
    /// wipes the partition files' unsynced tails, a reopen still gives every entry.
    func testCheckpointsPastJournalBytesMaxDeleteOldFilesAndRecoveryStillGivesEveryEntry() throws {
        let directory = TemporaryDirectory()
        let journal = try openJournal(directory, bytesMax: 8 * 1024)
        var logs = try (0..<4).map { try openJournaledLog(directory, UInt32($0), journal) }
        for first in stride(from: 1, through: 199, by: 2) {
            for log in logs { try log.appendAndWait(makeEntries(from: UInt64(first), count: 2, term: 1)) }
        }
        XCTAssertTrue(waitUntil { journal.currentStatistics.checkpoints >= 3 && journalPaths(directory).count <= 2 },
                      "checkpoints: \(journal.currentStatistics), files: \(journalPaths(directory))")
        try journal.checkpoint()
        let lastSynced = logs.map(\.lastIndex)
        for log in logs { try log.appendAndWait(makeEntries(from: 201, count: 3, term: 2)) }
        journal.close()
        logs.removeAll()
        XCTAssertEqual(journalPaths(directory).count, 1)
        for partition in 0..<4 {
            let segments = directory.segmentPaths("partition-\(partition)")
            XCTAssertEqual(segments.count, 1)
            XCTAssertEqual(lastSynced[partition], LogIndex(200))
            TailDamage.zeroed.apply(to: segments[0], from: 200 * entryRecordBytes)
        }

        let reopened = try openJournal(directory, bytesMax: 8 * 1024)
        defer { reopened.close() }
        for partition in 0..<4 {
            let log = try openJournaledLog(directory, UInt32(partition), reopened)
            XCTAssertEqual(try log.allEntries(), makeEntries(from: 1, count: 200, term: 1) + makeEntries(from: 201, count: 3, term: 2))
            try log.close()
        }
    }

    /// A crash after a checkpoint synced the partition files but before the older journal
    /// file was deleted: the old file is still there and recovery is unaffected. And a crash
    /// before the checkpoint record reached the disk (so nothing after it was acknowledged,
    /// and the partition syncs may be lost too): the old file alone rebuilds the log.
    func testCrashDuringACheckpointIsHarmless() throws {
        for checkpointRecordLost in [false, true] {
            let directory = TemporaryDirectory("\(#function)\(checkpointRecordLost)")
            let journal = try openJournal(directory)
            let log = try openJournaledLog(directory, 5, journal)
            try log.appendAndWait(makeEntries(from: 1, count: 6, term: 1))
            let oldPath = try XCTUnwrap(journalPaths(directory).last)
            let oldBytes = readFile(oldPath)
            try journal.checkpoint()
            XCTAssertFalse(FileManager.default.fileExists(atPath: oldPath))
            try log.appendAndWait(makeEntries(from: 7, count: 2, term: 1))
            journal.close()
            writeFile(oldPath, oldBytes)
            if checkpointRecordLost {
                let newPath = try XCTUnwrap(journalPaths(directory).last)
                XCTAssertEqual(journalRecordOffsets(newPath).count, 2)
                TailDamage.zeroed.apply(to: newPath, from: 0)
                TailDamage.zeroed.apply(to: directory.segmentPaths("partition-5")[0], from: 0)
            } else {
                TailDamage.zeroed.apply(to: directory.segmentPaths("partition-5")[0], from: 6 * entryRecordBytes)
            }

            let reopened = try openJournal(directory)
            let recovered = try openJournaledLog(directory, 5, reopened)
            XCTAssertEqual(try recovered.allEntries(), makeEntries(from: 1, count: checkpointRecordLost ? 6 : 8, term: 1),
                           "checkpoint record lost: \(checkpointRecordLost)")
            try recovered.close()
            reopened.close()
        }
    }

    /// Four partitions append (without waiting) and now and then truncate and continue in a
    /// new term, each from its own thread, while the small journal checkpoints again and
    /// again on its own thread. Nothing deadlocks, every append completes, and after a crash
    /// (the logs never closed) each partition reopens to exactly the log it acknowledged.
    func testConcurrentAppendsTruncationsAndCheckpointsKeepEveryPartitionExact() throws {
        let directory = TemporaryDirectory()
        let journal = try openJournal(directory, bytesMax: 8 * 1024)
        var logs = try (0..<4).map { try openJournaledLog(directory, UInt32($0), journal) }
        let outcomes = OutcomeCounter()
        let models = ModelBox(count: 4)
        let threads = DispatchGroup()
        for partition in 0..<4 {
            let log = logs[partition]
            DispatchQueue.global().async(group: threads) {
                var random = SeededRandom(seed: UInt64(partition) + 11)
                var model: [StoredEntry] = []
                var term: UInt64 = 1
                do {
                    for _ in 0..<150 {
                        if model.count > 4, Int.random(in: 0..<10, using: &random) == 0 {
                            let keep = model.count - Int.random(in: 1...3, using: &random)
                            try log.truncateSuffix(after: LogIndex(UInt64(keep)))
                            model.removeLast(model.count - keep)
                            term += 1
                        }
                        let entries = makeEntries(from: UInt64(model.count + 1), count: Int.random(in: 1...3, using: &random), term: term)
                        outcomes.started()
                        try log.append(entries) { outcomes.finished($0) }
                        model += entries
                    }
                } catch {
                    XCTFail("partition \(partition): \(error)")
                }
                models.set(partition, model)
            }
        }
        XCTAssertEqual(threads.wait(timeout: .now() + 120), .success, "appenders stuck")
        XCTAssertTrue(outcomes.waitForAll(timeout: 60), "appends never became durable")
        XCTAssertEqual(outcomes.failures, 0)
        XCTAssertGreaterThan(journal.currentStatistics.checkpoints, 0)
        journal.close()
        logs.removeAll()

        let reopened = try openJournal(directory, bytesMax: 8 * 1024)
        defer { reopened.close() }
        for partition in 0..<4 {
            let log = try openJournaledLog(directory, UInt32(partition), reopened)
            XCTAssertEqual(try log.allEntries(), models.get(partition), "partition \(partition)")
            try log.close()
        }
    }

    /// `SyncPolicy.none` (benchmarks only): the journal writes its records but never syncs,
    /// and the entries still come back after a restart.
    func testJournalWithoutSyncsStillWritesEveryRecord() throws {
        let directory = TemporaryDirectory()
        let journal = try openJournal(directory, sync: .none)
        let log = try openJournaledLog(directory, 6, journal, sync: .none)
        try log.appendAndWait(makeEntries(from: 1, count: 5, term: 1))
        XCTAssertEqual(journal.currentStatistics.dataSyncs, 0)
        XCTAssertEqual(journal.currentStatistics.durableRecords, 1)
        journal.close()
        TailDamage.zeroed.apply(to: directory.segmentPaths("partition-6")[0], from: 0)

        let reopened = try openJournal(directory, sync: .none)
        defer { reopened.close() }
        let recovered = try openJournaledLog(directory, 6, reopened, sync: .none)
        XCTAssertEqual(try recovered.allEntries(), makeEntries(from: 1, count: 5, term: 1))
        try recovered.close()
    }

    // MARK: Helpers

    private let entryRecordBytes = RecordFormat.recordBytes(payloadBytes: 40)

    private func openJournal(_ directory: TemporaryDirectory, bytesMax: Int = 1024 * 1024,
                             sync: SyncPolicy = .fsyncPerBatch) throws -> NodeJournal {
        try NodeJournal.open(directory: directory.path + "/journal",
                             options: .init(journalBytesMax: bytesMax, syncPolicy: sync), logger: quietLogger)
    }

    private func openJournaledLog(_ directory: TemporaryDirectory, _ partition: UInt32, _ journal: NodeJournal,
                                  sync: SyncPolicy = .fsyncPerBatch, segmentBytesMax: Int = 64 * 1024) throws -> PartitionLog {
        try PartitionLog.open(directory: directory.path + "/partition-\(partition)", partition: PartitionID(partition),
                              options: options(segmentBytesMax: segmentBytesMax, sync: sync), journal: journal, logger: quietLogger)
    }

    private func journalPaths(_ directory: TemporaryDirectory) -> [String] {
        let path = directory.path + "/journal"
        return ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
            .filter { $0.hasSuffix(".journal") }.sorted().map { path + "/" + $0 }
    }

    /// Where each valid record of a journal file starts.
    private func journalRecordOffsets(_ path: String) -> [Int] {
        readFile(path).withUnsafeBytes { raw in
            var offsets: [Int] = []
            var offset = 0
            while let (_, recordBytes) = JournalRecord.decode(raw, at: offset) {
                offsets.append(offset)
                offset += recordBytes
            }
            return offsets
        }
    }

    /// Runs `body` on a thread of its own; the group is done when it returns.
    private func onThread(_ body: @escaping @Sendable () -> Void) -> DispatchGroup {
        let group = DispatchGroup()
        group.enter()
        Thread {
            body()
            group.leave()
        }.start()
        return group
    }

    /// Polls `condition` every 10 ms for at most 30 s.
    private func waitUntil(_ condition: () -> Bool) -> Bool {
        for _ in 0..<3000 {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return condition()
    }
}

/// What a crash does to the part of a file that was never synced.
enum TailDamage: CaseIterable {
    case truncated, zeroed, garbage

    func apply(to path: String, from offset: Int) {
        var bytes = readFile(path)
        switch self {
        case .truncated:
            bytes.removeSubrange(offset...)
        case .zeroed:
            bytes.replaceSubrange(offset..., with: repeatElement(0, count: bytes.count - offset))
        case .garbage:
            var random = SeededRandom(seed: UInt64(offset) + 1)
            for position in offset..<bytes.count { bytes[position] = UInt8.random(in: 0...255, using: &random) }
        }
        writeFile(path, bytes)
    }
}

/// Counts append completions from many threads and waits for all of them.
final class OutcomeCounter: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending = 0
    private(set) var successes = 0
    private(set) var failures = 0

    func started() { condition.locked { pending += 1 } }

    func finished(_ result: Result<Void, StorageError>) {
        condition.locked {
            pending -= 1
            if case .success = result { successes += 1 } else { failures += 1 }
            condition.broadcast()
        }
    }

    func waitForAll(timeout seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        return condition.locked {
            while pending > 0 { if !condition.wait(until: deadline) { return pending == 0 } }
            return true
        }
    }
}

/// The expected log of each partition, filled in by the threads that wrote them.
final class ModelBox: @unchecked Sendable {
    private let lock = NSLock()
    private var models: [[StoredEntry]]
    init(count: Int) { models = Array(repeating: [], count: count) }
    func set(_ index: Int, _ model: [StoredEntry]) { lock.withLock { models[index] = model } }
    func get(_ index: Int) -> [StoredEntry] { lock.withLock { models[index] } }
}

/// One result, set on one thread and read on another.
private final class LockedOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<[UInt64], any Error>?

    func set(_ result: Result<[UInt64], any Error>) { lock.withLock { self.result = result } }
    func get() -> Result<[UInt64], any Error>? { lock.withLock { result } }
}
