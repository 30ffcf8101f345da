import CartTypes
import Foundation
import Logging

// The segment files under a partition log: writing records, rolling to a new segment,
// cutting and resetting the files, and stopping the log when a change of them fails. All
// called with the log's `lock` held.

extension PartitionLog {
    /// Never missing while the log runs: only a failed reset leaves no segment, and it stops
    /// the log (`writeFailure`), which every path here checks first.
    var active: Segment { segments.last! }

    func path(_ name: String) -> String { directory + "/" + name }

    func checkOpen() throws {
        if closed { throw StorageError.closed }
        if let failure = groupCommit.stoppedBy { throw failure }
        if let writeFailure { throw writeFailure }
        if let rollFailure { throw rollFailure }
    }

    func validate(_ entries: [StoredEntry]) throws {
        var expected = table.lastIndex.next
        var previousTerm = table.isEmpty ? boundary.term : table.slot(at: table.lastIndex)!.term
        for entry in entries {
            guard entry.index == expected else { throw StorageError.nonContiguousAppend(expected: expected, got: entry.index) }
            guard entry.term >= previousTerm else {
                throw StorageError.termRegression(index: entry.index, term: entry.term, previousTerm: previousTerm)
            }
            guard entry.payload.count <= options.payloadBytesMax else {
                throw StorageError.entryTooLarge(payloadBytes: entry.payload.count, payloadBytesMax: options.payloadBytesMax)
            }
            expected = expected.next
            previousTerm = entry.term
        }
    }

    /// Encodes and writes `entries`, rolling to new segments as they fill. Adds the
    /// completions made durable by a roll's flush to `completed` as soon as they are, so a
    /// failure later in the call does not lose them. A journaled log leaves the records in
    /// `unwritten` until enough bytes wait (or something needs the file).
    func writeRecords(_ entries: [StoredEntry], completing completed: inout [DurabilityCompletion]) throws {
        try makeRoomInRoll(for: entries)
        var slots: [LogIndexTable.Slot] = []
        slots.reserveCapacity(entries.count)
        // The fence counts bytes of the segment active now; records that go to a later one
        // (or to the one a roll is creating) name none of its bytes durable.
        let fenced = pendingRoll == nil ? active.sequence : nil
        let fence = groupCommit.durableFence
        for entry in entries {
            let recordBytes = RecordFormat.recordBytes(payloadBytes: entry.payload.count)
            let (segment, offset) = try place(recordBytes: recordBytes, completing: &completed)
            slots.append(.init(segment: segment, offset: offset, recordBytes: recordBytes, term: entry.term))
            let recordFence = segment == fenced ? fence : 0
            if let roll = pendingRoll {
                RecordFormat.encode(entry, partition: partition, durableFence: recordFence, into: &roll.records)
            } else {
                RecordFormat.encode(entry, partition: partition, durableFence: recordFence, into: &unwritten)
            }
        }
        if journal == nil || unwritten.count >= Self.unwrittenBytesMax { try writeUnwritten() }
        for slot in slots { table.append(slot) }
    }

    /// Writes the records waiting in `unwritten` at the active segment's end. After a failed
    /// write they stay in `unwritten` and are never written again: they may be partly in the
    /// file already, and those of the append that failed are not in the index table, so the
    /// same indexes appended again would follow them (see `changingFiles`).
    func writeUnwritten() throws {
        guard !unwritten.isEmpty else { return }
        try changingFiles("writing records into the active segment", at: active.path) {
            try active.prepareWrite(through: active.writeOffset + unwritten.count)
            try active.file.write(unwritten, at: active.writeOffset)
        }
        active.writeOffset += unwritten.count
        unwritten.removeAll(keepingCapacity: true)
    }

    /// Runs `change`, a write into the segment files or a change of them; if it fails, the
    /// log stops as after a failed sync: every later call throws the error (`writeFailure`).
    /// The files and the in-memory state may disagree now. Writing on would repeat records
    /// already (partly) in the file, which recovery refuses as corruption or cuts as a torn
    /// tail together with acknowledged entries; a truncation or reset may have stopped
    /// halfway, possibly with no segment left. The appends already reported stay durable: in
    /// the file once synced (the group commit still completes those waiting), or in the
    /// journal, which keeps its records because a stopped log fails every checkpoint.
    /// Reopening reads the files as they are, as after a crash.
    func changingFiles(_ what: String, at path: String, _ change: () throws -> Void) throws {
        if let writeFailure { throw writeFailure }
        do {
            try change()
        } catch {
            writeFailure = error
            logger.error("\(what) failed; log stopped", metadata: ["path": "\(path)", "error": "\(error)"])
            throw error
        }
    }

    /// Seals the active segment (synced in full, so damage in it is never a torn tail) and
    /// starts the next one. The appends the seal's sync made durable go into `completed`
    /// before the next segment is created, so they are reported even if that fails.
    ///
    /// A failed creation stops the log, as a failed sync does: records of the append that
    /// needed the roll may already sit at the end of the sealed segment without being in the
    /// index table. Appending those indexes again after a later roll succeeded would put them
    /// in two segments: recovery then refuses the log as corruption, or (no record's fence in
    /// the new segment proving it synced) cuts the new segment as a torn tail, losing the
    /// acknowledged entries in it. Reopening reads the files as they are: those records are
    /// an unacknowledged suffix, as after a crash.
    func roll(completing completed: inout [DurabilityCompletion]) throws {
        if let gate = rollGateForTesting {
            gate.wait()
            gate.signal()
        }
        let began = ContinuousClock.now
        completed += try groupCommit.flush(force: true)
        let sealed = ContinuousClock.now
        let segment: Segment
        do {
            segment = try Segment.create(directory: directory, sequence: active.sequence + 1,
                                         capacityBytes: options.segmentBytesMax, policy: options.syncPolicy)
        } catch {
            rollFailure = error
            logger.error("could not create the next segment; log stopped", metadata: ["error": "\(error)"])
            throw error
        }
        segments.append(segment)
        groupCommit.retarget(segment.file, durableBytes: 0)
        logger.info("rolled to a new segment", metadata: [
            "file": "\(segment.fileName)", "sealMs": "\((sealed - began).millisecondsText)",
            "createMs": "\((ContinuousClock.now - sealed).millisecondsText)",
        ])
    }

    /// Deletes matching segments newest first, then syncs the directory. Each one leaves
    /// `segments` as its file goes, so after a failed `unlink` the list still names exactly
    /// the files left (a later compaction deletes the rest).
    /// `syncingDirectory: false` leaves the directory's sync to the caller (a compaction syncs
    /// it after letting go of the lock); says whether any segment went.
    @discardableResult
    func removeSegments(where shouldRemove: (Segment) -> Bool, syncingDirectory: Bool = true) throws -> Bool {
        let doomed = segments.filter(shouldRemove)
        guard !doomed.isEmpty else { return false }
        for segment in doomed.reversed() {
            try PosixFile.remove(segment.path)
            segments.removeAll { $0 === segment }
        }
        if syncingDirectory && options.syncPolicy == .fsyncPerBatch { try PosixFile.syncDirectory(directory) }
        return true
    }

    /// Called with `lock` held: removes the entries after `index` from the files (synced).
    func cutSuffix(after index: LogIndex) throws {
        try writeUnwritten()
        let cut = table.slot(at: max(index.next, table.firstIndex))!
        try changingFiles("cutting the log after \(index)", at: directory) {
            // Newest segments go first, so a crash midway leaves a shorter log, never a gap.
            try removeSegments(where: { $0.sequence > cut.segment })
            try active.cut(at: cut.offset, policy: options.syncPolicy)
        }
        groupCommit.retarget(active.file, durableBytes: cut.offset)
        table.removeSuffix(after: index)
    }

    /// Called with `lock` held: replaces the files by an empty log after (`index`, `term`).
    /// The boundary, written first, names the next segment as the first live one, so every
    /// older segment is dead from then on: if deleting them or creating the next one fails
    /// (or a crash interrupts), the log stops, and reopening deletes what is left of them and
    /// starts the empty log after the boundary (or reads the older files, if the boundary
    /// was not written). It never reads back entries above `index` that the reset replaced.
    func reset(index: LogIndex, term: Term) throws {
        let nextSequence = active.sequence + 1
        let newBoundary = CompactionBoundary(index: index, term: term, firstSegment: nextSequence)
        try changingFiles("resetting the log for a snapshot at \(index)", at: directory) {
            try MetadataFile.write(newBoundary.encoded(), to: path(Self.boundaryFileName), policy: options.syncPolicy)
            boundary = newBoundary
            unwritten.removeAll()
            try removeSegments(where: { _ in true })
            segments = [try Segment.create(directory: directory, sequence: nextSequence,
                                           capacityBytes: options.segmentBytesMax, policy: options.syncPolicy)]
        }
        groupCommit.retarget(active.file, durableBytes: 0)
        table = LogIndexTable(firstIndex: index.next)
    }
}
