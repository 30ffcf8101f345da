import CartTypes
import XCTest
@testable import CartStorage

/// Crash consistency: the files are damaged the ways a crash or a bad disk damages them,
/// and reopening must keep every fully written record before the damage and never return a
/// corrupted byte. Damage in the unsynced tail is cut; damage in data that later records
/// prove was synced refuses to open (or is cut in repair mode).
final class CrashRecoveryTests: XCTestCase {
    private let partition: PartitionID = 4

    /// Builds a log of `batches` batches of 3 entries, each made durable before the next is
    /// written (so every record's fence covers all earlier batches); returns all entries.
    private func buildLog(in directory: TemporaryDirectory, batches: Int, segmentBytesMax: Int = 64 * 1024) throws -> [StoredEntry] {
        let log = try PartitionLog.open(directory: directory.path, partition: partition,
                                        options: options(segmentBytesMax: segmentBytesMax), logger: quietLogger)
        var written: [StoredEntry] = []
        for batch in 0..<batches {
            let entries = makeEntries(from: UInt64(batch * 3 + 1), count: 3, term: 1, payloadBytes: 20 + batch)
            try log.appendAndWait(entries)
            written += entries
        }
        try log.close()
        return written
    }

    /// End offsets of the records in a segment (with padding), from the entries' payload sizes.
    private func recordEnds(of entries: [StoredEntry]) -> [Int] {
        var end = 0
        return entries.map { entry in
            end += RecordFormat.recordBytes(payloadBytes: entry.payload.count)
            return end
        }
    }

    /// End offsets of the records' checksummed bytes (padding is zeros, so a zero-filled cut
    /// inside the padding loses nothing).
    private func dataEnds(of entries: [StoredEntry]) -> [Int] {
        zip(recordEnds(of: entries), entries).map { end, entry in
            end - RecordFormat.recordBytes(payloadBytes: entry.payload.count) + RecordFormat.headerBytes + entry.payload.count
        }
    }

    /// Asserts `recovered` is exactly the first `count` written entries (compact failure output).
    private func assertPrefix(_ recovered: [StoredEntry], of written: [StoredEntry], count: Int, _ message: String,
                              line: UInt = #line) {
        XCTAssertEqual(recovered.count, count, message, line: line)
        XCTAssertTrue(recovered == Array(written.prefix(count)), "content differs: " + message, line: line)
    }

    private func reopen(_ directory: TemporaryDirectory, recovery: RecoveryMode = .strict) throws -> [StoredEntry] {
        let log = try PartitionLog.open(directory: directory.path, partition: partition,
                                        options: options(sync: .none, recovery: recovery), logger: quietLogger)
        defer { try? log.close() }
        return try log.allEntries()
    }

    /// A crash while the last records were being written leaves the segment cut at any byte:
    /// as a short file, or as a file whose preallocated rest reads as zeros. Every cut keeps
    /// exactly the records that end at or before it, and the log accepts appends afterwards.
    func testTailCutAtEveryByteOffsetOfTheLastRecordsKeepsEveryCompleteRecord() throws {
        let directory = TemporaryDirectory()
        let written = try buildLog(in: directory, batches: 4)
        let segment = directory.segmentPaths().last!
        let original = readFile(segment)
        let ends = recordEnds(of: written)
        let dataEnds = dataEnds(of: written)
        for cut in ends[ends.count - 4]...ends.last! {
            for zeroFilled in [false, true] {
                var damaged = Array(original[0..<cut])
                if zeroFilled { damaged += [UInt8](repeating: 0, count: original.count - cut) }
                writeFile(segment, damaged)
                let kept = (zeroFilled ? dataEnds : ends).filter { $0 <= cut }.count
                assertPrefix(try reopen(directory), of: written, count: kept, "cut at \(cut), zero filled \(zeroFilled)")
            }
        }
        // The last cut left the log one record short; it continues from there.
        let log = try PartitionLog.open(directory: directory.path, partition: partition, options: options(), logger: quietLogger)
        XCTAssertEqual(log.lastIndex, LogIndex(UInt64(written.count)))
        try log.appendAndWait(makeEntries(from: UInt64(written.count) + 1, count: 2, term: 2))
        XCTAssertEqual(try log.allEntries(), written + makeEntries(from: UInt64(written.count) + 1, count: 2, term: 2))
    }

    /// Random cuts anywhere in the segment, each reopened from a fresh copy.
    func testTailCutAtRandomOffsetsKeepsEveryCompleteRecord() throws {
        let seed: UInt64 = 0xC0_FFEE
        var random = SeededRandom(seed: seed)
        let directory = TemporaryDirectory()
        let written = try buildLog(in: directory, batches: 20)
        let segment = directory.segmentPaths().last!
        let original = readFile(segment)
        let ends = dataEnds(of: written)
        for _ in 0..<60 {
            let cut = Int.random(in: 0...ends.last!, using: &random)
            writeFile(segment, Array(original[0..<cut]) + [UInt8](repeating: 0, count: original.count - cut))
            assertPrefix(try reopen(directory), of: written, count: ends.filter { $0 <= cut }.count, "seed \(seed) cut \(cut)")
        }
    }

    /// A flipped bit anywhere in the records: in the last write batch (3 records, never
    /// synced as far as the files can prove) it is a torn tail and is cut there; in an
    /// earlier batch (which later records prove was synced) open refuses and names the file
    /// and the damaged record's offset; in padding (not data) nothing is lost. Never is a
    /// corrupted entry returned.
    func testRandomBitFlipsAreCutAtTheTailOrRefusedBeforeIt() throws {
        let seed: UInt64 = 0xB17_F11B
        var random = SeededRandom(seed: seed)
        let directory = TemporaryDirectory()
        let written = try buildLog(in: directory, batches: 10)
        let segment = directory.segmentPaths().last!
        let original = readFile(segment)
        let ends = recordEnds(of: written)
        var refused = 0
        var cut = 0
        for _ in 0..<120 {
            let byte = Int.random(in: 0..<ends.last!, using: &random)
            var damaged = original
            damaged[byte] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &random)
            writeFile(segment, damaged)
            let record = ends.firstIndex { $0 > byte }!
            let recordStart = record == 0 ? 0 : ends[record - 1]
            let inPadding = byte >= recordStart + RecordFormat.headerBytes + written[record].payload.count
            do {
                let recovered = try reopen(directory)
                if inPadding {
                    assertPrefix(recovered, of: written, count: written.count, "seed \(seed) byte \(byte) (padding)")
                } else {
                    XCTAssertGreaterThanOrEqual(record, written.count - 3, "seed \(seed): damage at \(byte) before the tail was accepted")
                    assertPrefix(recovered, of: written, count: record, "seed \(seed) byte \(byte)")
                    cut += 1
                }
            } catch let error as StorageError {
                XCTAssertEqual(error, .corruptRecord(file: segment, offset: recordStart, reason: reason(of: error)),
                               "seed \(seed) byte \(byte)")
                XCTAssertFalse(inPadding)
                refused += 1
            }
            writeFile(segment, original)
        }
        XCTAssertGreaterThan(refused, 0, "seed \(seed): no flip hit an earlier record")
        XCTAssertGreaterThan(cut, 0, "seed \(seed): no flip hit the last record")
    }

    private func reason(of error: StorageError) -> String {
        if case let .corruptRecord(_, _, reason) = error { return reason }
        return ""
    }

    /// Corruption in the middle of synced data refuses to start, naming file and offset; the
    /// explicit repair mode cuts the log there instead, keeping every record before it.
    func testMidLogCorruptionRefusesToOpenAndRepairModeTruncatesThere() throws {
        let directory = TemporaryDirectory()
        let written = try buildLog(in: directory, batches: 5)
        let segment = directory.segmentPaths().last!
        var bytes = readFile(segment)
        let ends = recordEnds(of: written)
        let damagedRecordStart = ends[5]
        bytes[damagedRecordStart + RecordFormat.headerBytes + 3] ^= 0x40
        writeFile(segment, bytes)

        XCTAssertThrowsError(try reopen(directory)) { error in
            guard case let .corruptRecord(file, offset, reason)? = error as? StorageError else {
                return XCTFail("expected corruptRecord, got \(error)")
            }
            XCTAssertEqual(file, segment)
            XCTAssertEqual(offset, damagedRecordStart)
            XCTAssertEqual(reason, "checksum mismatch")
            XCTAssertTrue("\(error)".contains(segment) && "\(error)".contains("\(damagedRecordStart)"))
        }
        XCTAssertEqual(try reopen(directory, recovery: .truncateAtCorruption), Array(written[0..<6]))
        XCTAssertEqual(try reopen(directory), Array(written[0..<6]), "the repair is durable")
    }

    /// Segments before the last were synced in full when the log rolled past them, so damage
    /// in a sealed segment is corruption even at its last record.
    func testDamageInTheLastRecordOfASealedSegmentIsCorruption() throws {
        let directory = TemporaryDirectory()
        _ = try buildLog(in: directory, batches: 12, segmentBytesMax: 512)
        let segments = directory.segmentPaths()
        XCTAssertGreaterThan(segments.count, 2)
        var bytes = readFile(segments[0])
        let lastRecordEnd = bytes.lastIndex { $0 != 0 }!
        bytes[lastRecordEnd] ^= 0x01
        writeFile(segments[0], bytes)
        XCTAssertThrowsError(try reopen(directory)) { error in
            guard case let .corruptRecord(file, _, _)? = error as? StorageError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, segments[0])
        }
    }

    /// A crash in the middle of one unsynced batch can persist a later page of it while an
    /// earlier page is still zeros. Records after the hole carry a fence that does not cover
    /// the hole, so it is a torn tail: cut, not refused.
    func testHoleInsideTheUnsyncedLastBatchIsATornTail() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog.open(directory: directory.path, partition: partition, options: options(), logger: quietLogger)
        let durable = makeEntries(from: 1, count: 3, term: 1)
        try log.appendAndWait(durable)
        let lastBatch = makeEntries(from: 4, count: 6, term: 1)
        try log.appendAndWait(lastBatch)
        try log.close()
        // Rewrite the last batch's fences to the value they carry when written before the
        // previous sync completed, as if both were one in-flight batch.
        let segment = directory.segmentPaths().last!
        var bytes = readFile(segment)
        let ends = recordEnds(of: durable + lastBatch)
        for record in 3..<9 {
            rewriteFence(&bytes, recordAt: ends[record - 1], fence: 0)
        }
        for offset in ends[4]..<ends[5] { bytes[offset] = 0 }  // record 6 never reached the disk
        writeFile(segment, bytes)
        XCTAssertEqual(try reopen(directory), durable + Array(lastBatch[0..<2]))
    }

    private func rewriteFence(_ bytes: inout [UInt8], recordAt offset: Int, fence: UInt32) {
        withUnsafeBytes(of: fence.littleEndian) { for i in 0..<4 { bytes[offset + 12 + i] = $0[i] } }
        let payloadBytes = Int(readLittleEndian(UInt32.self, bytes, offset))
        let checksum = bytes.withUnsafeBytes { raw in
            CRC32C.update(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + 4)])),
                          UnsafeRawBufferPointer(rebasing: raw[(offset + 8)..<(offset + 32 + payloadBytes)]))
        }
        withUnsafeBytes(of: checksum.littleEndian) { for i in 0..<4 { bytes[offset + 4 + i] = $0[i] } }
    }

    /// The cut of a torn tail is logged as a warning naming the file, the offset and why.
    func testCuttingATornTailIsLogged() throws {
        let directory = TemporaryDirectory()
        let written = try buildLog(in: directory, batches: 2)
        let segment = directory.segmentPaths().last!
        var bytes = readFile(segment)
        let lastStart = recordEnds(of: written)[written.count - 2]
        bytes[lastStart + 1] ^= 0xFF
        writeFile(segment, bytes)
        let logs = CapturedLogs()
        let log = try PartitionLog.open(directory: directory.path, partition: partition, options: options(), logger: logs.logger)
        XCTAssertEqual(log.lastIndex, LogIndex(UInt64(written.count - 1)))
        let warnings = logs.all.filter { $0.level == .warning }
        XCTAssertEqual(warnings.count, 1)
        XCTAssertEqual(warnings.first?.metadata["file"], .string(segment))
        XCTAssertEqual(warnings.first?.metadata["offset"], .string("\(lastStart)"))
        XCTAssertEqual(warnings.first?.metadata["partition"], .string("\(partition)"))
    }

    /// A crash right after a roll leaves an empty preallocated segment at the end: nothing
    /// is lost and appends continue into it.
    func testEmptyLastSegmentAfterARollIsAcceptedAndUsed() throws {
        let directory = TemporaryDirectory()
        let written = try buildLog(in: directory, batches: 3)
        let next = directory.path + "/" + Segment.fileName(sequence: 2)
        writeFile(next, [UInt8](repeating: 0, count: 64 * 1024))
        let log = try PartitionLog.open(directory: directory.path, partition: partition, options: options(), logger: quietLogger)
        XCTAssertTrue(try log.allEntries() == written)
        try log.appendAndWait(makeEntries(from: UInt64(written.count + 1), count: 2, term: 1))
        try log.close()
        XCTAssertGreaterThan(readFile(next).prefix(64).filter { $0 != 0 }.count, 0, "appends go to the newest segment")
        XCTAssertEqual(try reopen(directory).count, written.count + 2)
    }

    /// A crash while a roll was creating the next segment, right after the file appeared:
    /// it is empty, never preallocated, and its name may not be durable. Recovery adopts it
    /// as the active segment and finishes its creation (preallocated to capacity, synced with
    /// the directory) before any record goes in.
    func testSegmentLeftEmptyByACrashDuringItsCreationIsFinishedOnOpen() throws {
        let directory = TemporaryDirectory()
        let written = try buildLog(in: directory, batches: 3)
        let next = directory.path + "/" + Segment.fileName(sequence: 2)
        writeFile(next, [])
        let log = try PartitionLog.open(directory: directory.path, partition: partition, options: options(), logger: quietLogger)
        XCTAssertEqual(readFile(next).count, 64 * 1024, "the adopted segment was not preallocated")
        XCTAssertTrue(try log.allEntries() == written)
        try log.appendAndWait(makeEntries(from: UInt64(written.count + 1), count: 2, term: 1))
        try log.close()
        XCTAssertGreaterThan(readFile(next).prefix(64).filter { $0 != 0 }.count, 0, "appends go to the newest segment")
        XCTAssertEqual(try reopen(directory).count, written.count + 2)
    }

    /// A crash after the compaction boundary was written but before old segments were
    /// deleted: reopening finishes the compaction and shows the same log.
    func testInterruptedCompactionIsFinishedOnOpen() throws {
        let directory = TemporaryDirectory()
        let written = try buildLog(in: directory, batches: 12, segmentBytesMax: 512)
        let saved = directory.segmentPaths().map { ($0, readFile($0)) }
        let log = try PartitionLog.open(directory: directory.path, partition: partition,
                                        options: options(segmentBytesMax: 512), logger: quietLogger)
        try log.compactPrefix(through: 20)
        try log.close()
        let kept = directory.segmentPaths()
        for (path, bytes) in saved where !kept.contains(path) { writeFile(path, bytes) }  // the deletions never happened
        let reopened = try PartitionLog.open(directory: directory.path, partition: partition,
                                             options: options(segmentBytesMax: 512), logger: quietLogger)
        XCTAssertEqual(reopened.firstIndex, 21)
        XCTAssertTrue(try reopened.allEntries() == Array(written[20...]))
        XCTAssertEqual(directory.segmentPaths(), kept)
    }

    /// A compaction whose deletions stopped partway (a crash, or a failed `unlink`) may leave
    /// any of the old segments, with gaps between them: reopening deletes them all, shows the
    /// same log and appends on.
    func testCompactionInterruptedWithOnlySomeOldSegmentsDeletedIsFinishedOnOpen() throws {
        let directory = TemporaryDirectory()
        let written = try buildLog(in: directory, batches: 12, segmentBytesMax: 512)
        let saved = directory.segmentPaths().map { ($0, readFile($0)) }
        let log = try PartitionLog.open(directory: directory.path, partition: partition,
                                        options: options(segmentBytesMax: 512), logger: quietLogger)
        try log.compactPrefix(through: 30)
        try log.close()
        let kept = directory.segmentPaths()
        let deleted = saved.filter { !kept.contains($0.0) }
        XCTAssertGreaterThanOrEqual(deleted.count, 3, "the test needs a gap between two left-over segments")
        for (position, (path, bytes)) in deleted.enumerated() where position % 2 == 0 { writeFile(path, bytes) }
        let reopened = try PartitionLog.open(directory: directory.path, partition: partition,
                                             options: options(segmentBytesMax: 512), logger: quietLogger)
        XCTAssertEqual(reopened.firstIndex, 31)
        XCTAssertTrue(try reopened.allEntries() == Array(written[30...]))
        XCTAssertEqual(directory.segmentPaths(), kept)
        let more = makeEntries(from: UInt64(written.count + 1), count: 3, term: 1)
        try reopened.appendAndWait(more)
        try reopened.close()
        XCTAssertTrue(try reopen(directory) == Array(written[30...]) + more)
    }

    /// A snapshot reset interrupted before its old segments were all deleted (a crash, or a
    /// failed `unlink`), with or without the new empty segment created: the old segments hold
    /// entries past the snapshot that the reset replaced. Reopening must start the log right
    /// after the snapshot, delete them, and append on.
    func testResetInterruptedBeforeTheOldSegmentsWentStartsTheLogAfterTheSnapshot() throws {
        for newSegmentCreated in [true, false] {
            let directory = TemporaryDirectory()
            let written = try buildLog(in: directory, batches: 12, segmentBytesMax: 512)
            XCTAssertEqual(written.count, 36)
            let saved = directory.segmentPaths().map { ($0, readFile($0)) }
            let log = try PartitionLog.open(directory: directory.path, partition: partition,
                                            options: options(segmentBytesMax: 512), logger: quietLogger)
            try log.resetForSnapshot(index: 20, term: 1)
            try log.close()
            var kept = directory.segmentPaths()
            XCTAssertEqual(kept.count, 1)
            if !newSegmentCreated {
                for path in kept { try FileManager.default.removeItem(atPath: path) }
            }
            for (path, bytes) in saved { writeFile(path, bytes) }  // the deletions never happened
            let reopened = try PartitionLog.open(directory: directory.path, partition: partition,
                                                 options: options(segmentBytesMax: 512), logger: quietLogger)
            XCTAssertEqual(reopened.firstIndex, 21, "new segment created: \(newSegmentCreated)")
            XCTAssertEqual(reopened.lastIndex, 20, "entries 21… of the replaced log came back (new segment created: \(newSegmentCreated))")
            XCTAssertEqual(try reopened.term(at: 20), 1)
            if newSegmentCreated { XCTAssertEqual(directory.segmentPaths(), kept) }
            kept = directory.segmentPaths()
            XCTAssertEqual(kept.count, 1, "the replaced segments are deleted (new segment created: \(newSegmentCreated))")
            XCTAssertFalse(saved.contains { $0.0 == kept.first }, "the log goes on in a segment numbered after the old ones")
            let next = makeEntries(from: 21, count: 3, term: 2)
            try reopened.appendAndWait(next)
            try reopened.close()
            XCTAssertTrue(try reopen(directory) == next, "new segment created: \(newSegmentCreated)")
        }
    }

    /// Repair mode with corruption in an early sealed segment drops everything from there on,
    /// including the later segments, and keeps the records before the damage.
    func testRepairOfASealedSegmentDropsTheLaterSegments() throws {
        let directory = TemporaryDirectory()
        let written = try buildLog(in: directory, batches: 12, segmentBytesMax: 512)
        let segments = directory.segmentPaths()
        var bytes = readFile(segments[0])
        let second = RecordFormat.recordBytes(payloadBytes: written[0].payload.count)
        bytes[second + 40] ^= 0x08
        writeFile(segments[0], bytes)
        let log = try PartitionLog.open(directory: directory.path, partition: partition,
                                        options: options(segmentBytesMax: 512, recovery: .truncateAtCorruption), logger: quietLogger)
        XCTAssertTrue(try log.allEntries() == Array(written.prefix(1)))
        XCTAssertEqual(directory.segmentPaths(), [segments[0]])
    }

    /// The last record cannot be told from a torn write by the segment alone, but if the
    /// saved hard state says it was committed, it was durable: damage there is corruption
    /// (refused, repairable), while damage above the commit index is still a torn tail.
    func testDamagedTailBelowTheSavedCommitIndexIsCorruption() throws {
        let directory = TemporaryDirectory()
        let written = try buildLog(in: directory, batches: 3)
        let segment = directory.segmentPaths().last!
        var bytes = readFile(segment)
        let lastStart = recordEnds(of: written)[written.count - 2]
        bytes[lastStart + RecordFormat.headerBytes] ^= 0x02
        writeFile(segment, bytes)

        try saveHardState(HardState(term: 1, vote: 1, commit: LogIndex(UInt64(written.count))), in: directory)
        XCTAssertThrowsError(try reopen(directory)) { error in
            guard case let .corruptRecord(file, offset, _)? = error as? StorageError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, segment)
            XCTAssertEqual(offset, lastStart)
        }
        try saveHardState(HardState(term: 1, vote: 1, commit: LogIndex(UInt64(written.count - 1))), in: directory)
        XCTAssertEqual(try reopen(directory).count, written.count - 1)
    }

    private func saveHardState(_ state: HardState, in directory: TemporaryDirectory) throws {
        try MetadataFile.write(state.encoded(), to: directory.path + "/" + PartitionLog.hardStateFileName, policy: .none)
    }
}
