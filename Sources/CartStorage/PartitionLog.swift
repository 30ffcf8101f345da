import CartTypes
import Foundation
import Logging

/// The durable Raft log of one partition replica, with its hard state and snapshots.
///
/// Files, all in one directory per partition:
/// - `00000000000000000001.seg`, …: preallocated segments of records (`RecordFormat`);
/// - `log.meta`: the compaction boundary (last compacted index and its term);
/// - `hardstate`: term, vote, commit (`HardState`);
/// - `snapshots/`: the newest snapshots (`SnapshotStore`).
///
/// Durability: `append` writes the records into the active segment and returns; the
/// completion runs once a group-commit `fdatasync` covering them has returned. Truncation,
/// compaction, segment creation and metadata changes sync the file and its directory
/// before they return.
///
/// Concurrency: every method may be called from any thread. One lock (`NSCondition`) serializes the
/// log's state (segments, index table, write offset) and is held for each call's writes
/// and reads (page-cache speed), never across a group-commit sync; the sync runs on the
/// log's own `GroupCommit` thread, so appends from several threads, or pipelined appends
/// from one, share syncs. A compaction syncs its new boundary, and a journaled truncation or
/// reset waits for the journal, without that lock; `filesLock` keeps those changes apart.
/// Hard state and snapshots have their own locks so that saving
/// them never stalls appends. Completions run on the sync thread (or the caller's) with no
/// lock held. Hence `@unchecked Sendable`.
///
/// Journaled mode (`open(..., journal:)`): appends are made durable by the node's shared
/// `NodeJournal` instead of this log's own group commit; the segments are written to the
/// page cache only and synced by the journal's checkpoints (see `NodeJournal`, README.md).
public final class PartitionLog: @unchecked Sendable {
    public struct Statistics: Hashable, Sendable {
        /// `fdatasync` calls made by group commit (not counting segment creation or truncation).
        public var dataSyncs: UInt64
        /// Appends whose completion reported success (journaled logs: see `NodeJournal.Statistics`).
        public var durableAppends: UInt64
        public var segmentCount: Int
    }

    public let directory: String
    public let partition: PartitionID
    public let options: PartitionLogOptions
    public let snapshots: SnapshotStore

    let logger: Logger
    /// A condition as well, for `finishRoll` to wait on a roll the roll queue is doing.
    let lock = NSCondition()
    /// Held by a change of the files that spans more than one hold of `lock` (compaction,
    /// truncation, reset), so two never interleave: the boundary file and the segment list
    /// a compaction planned under `lock` are still the ones it changes after its sync.
    /// Taken before `lock`, never while holding it.
    let filesLock = NSLock()
    let hardStateLock = NSLock()
    let groupCommit: GroupCommit
    /// The node journal that makes appends durable, or nil when this log syncs its own segments.
    let journal: NodeJournal?
    var segments: [Segment]
    var table: LogIndexTable
    var boundary: CompactionBoundary
    var closed = false
    /// Set by `close` under `hardStateLock`: a hard-state save still on its way (they run off
    /// the replica's loop) writes nothing once `close` has returned.
    var hardStateClosed = false
    /// Why the log stopped accepting writes after a segment roll failed (see `roll`); a
    /// failed sync stops it through `groupCommit.stoppedBy` instead. The files still hold
    /// every entry of the index table, so reads, checkpoints and a clean close go on.
    var rollFailure: (any Error)?
    /// Why the log stopped after a write into a segment, or a change of the segment files
    /// (truncation, snapshot reset), failed (see `changingFiles`). The files may lack entries
    /// the index table has (a journaled log's buffered records, durable in the journal only)
    /// or show half of the change, possibly with no segment left at all; so every later call
    /// throws it, reads included, and the log never tells the journal its file is durable again.
    var writeFailure: (any Error)?
    /// Journaled logs: records encoded after the active segment's written end, not yet in
    /// the file. The journal holds them durably; the file only needs them by the next
    /// checkpoint, so they go in with one `pwrite` per `unwrittenBytesMax` instead of one
    /// per append (a journaled write used to cost two page-cache writes of its payload).
    var unwritten: [UInt8] = []
    /// Journaled logs, once open: a full segment is sealed and the next one created on
    /// `rollQueue`, not by the appender (see `PartitionLog+SegmentRoll.swift`).
    var defersRolls = false
    /// The roll in progress, whose records wait in memory; nil when none is.
    var pendingRoll: SegmentRoll?
    let rollQueue: DispatchQueue
    /// Tests: waited on (and passed on) by each roll before it seals the active segment.
    var rollGateForTesting: DispatchSemaphore?
    /// Tests: waited on by each compaction before it writes its boundary.
    var boundaryGateForTesting: DispatchSemaphore?

    /// Journaled logs write their records into the segment once this many bytes are waiting.
    static let unwrittenBytesMax = 64 * 1024
    /// Appends wait for a roll rather than take its records in memory past this many bytes
    /// (or the segment size, if smaller); one append may still go past it.
    static let rollBufferBytesCap = 8 << 20

    /// Largest single `pread` when serving a range of entries.
    static let readRunBytesMax = 4 * 1024 * 1024
    static let boundaryFileName = "log.meta"
    static let hardStateFileName = "hardstate"
    static let appliedMarkFileName = "applied"
    static let snapshotDirectoryName = "snapshots"

    private init(directory: String, partition: PartitionID, options: PartitionLogOptions, logger: Logger,
                 snapshots: SnapshotStore, recovered: RecoveredLog, syncWorkers: SyncWorkers?, journal: NodeJournal?) {
        self.directory = directory
        self.partition = partition
        self.options = options
        self.logger = logger
        self.snapshots = snapshots
        self.segments = recovered.segments
        self.table = recovered.table
        self.boundary = recovered.boundary
        self.journal = journal
        self.rollQueue = DispatchQueue(label: "cart-storage-roll-\(partition)")
        self.groupCommit = GroupCommit(policy: options.syncPolicy, name: "cart-storage-\(partition)", workers: syncWorkers)
        groupCommit.retarget(active.file, durableBytes: active.writeOffset)
    }

    deinit { groupCommit.close() }

    /// Opens (creating if needed) the log in `directory`, recovering from any crash.
    /// Throws `corruptRecord` naming file and offset when acknowledged data is damaged.
    /// With `syncWorkers`, the log's group commit runs on those shared threads instead of a
    /// thread of its own (a node shares a few among all its partitions); stop them only after
    /// closing the logs.
    ///
    /// With `journal`, the log runs journaled: its file is recovered trusting only what the
    /// journal's last checkpoint says was synced, then the journal's operations for this
    /// partition are replayed on it and the result synced before the log is registered.
    public static func open(directory: String, partition: PartitionID, options: PartitionLogOptions = .init(),
                            syncWorkers: SyncWorkers? = nil, journal: NodeJournal? = nil,
                            logger: Logger = Logger(label: "cart.storage")) throws -> PartitionLog {
        options.validate()
        var logger = logger
        logger[metadataKey: "partition"] = "\(partition)"
        try PosixFile.makeDirectory(directory)
        let snapshots = try SnapshotStore(directory: directory + "/" + snapshotDirectoryName,
                                          retainedCount: options.snapshotsRetainedCount,
                                          dataBytesMax: options.snapshotBytesMax,
                                          policy: options.syncPolicy, logger: logger)
        var committed = try readHardState(directory + "/" + hardStateFileName).commit
        let journalOps = journal?.takeRecovered(partition)
        if journal != nil {
            // The hard state's commit may be ahead of what the partition file holds durably:
            // those entries are durable in the journal and come back from it.
            committed = min(committed, journalOps?.durableFloor ?? .zero)
        }
        do {
            let recovered = try RecoveredLog.recover(directory: directory, partition: partition, options: options,
                                                     committed: committed, logger: logger)
            let log = PartitionLog(directory: directory, partition: partition, options: options, logger: logger,
                                   snapshots: snapshots, recovered: recovered, syncWorkers: syncWorkers, journal: journal)
            if let journal {
                let durableIndex = try log.replay(journalOps?.ops ?? [])
                log.lock.withLock { log.defersRolls = true }
                journal.register(log, durableIndex: durableIndex)
            }
            return log
        } catch {
            // The journal keeps the operations for a later attempt (and its checkpoints).
            if let journal, let journalOps { journal.returnRecovered(partition, journalOps) }
            throw error
        }
    }

    // MARK: Reading

    /// The first index still readable (`compacted + 1`).
    public var firstIndex: LogIndex { lock.withLock { table.firstIndex } }

    /// The last index written; `firstIndex - 1` when the log holds no entries.
    public var lastIndex: LogIndex { lock.withLock { table.lastIndex } }

    /// The term of the entry at `index`; also answers for the last compacted index.
    public func term(at index: LogIndex) throws -> Term {
        try lock.withLock {
            if let writeFailure { throw writeFailure }
            if index == boundary.index { return boundary.term }
            guard let slot = table.slot(at: index) else {
                throw StorageError.indexOutOfRange(requested: index, firstIndex: table.firstIndex, lastIndex: table.lastIndex)
            }
            return slot.term
        }
    }

    /// Entries `from...through` (inclusive), stopping early once `payloadBytesMax` bytes are
    /// collected (always at least one entry). Every record's checksum is verified again.
    public func entries(from first: LogIndex, through last: LogIndex, payloadBytesMax: Int = .max) throws -> [StoredEntry] {
        try lock.withLock {
            if let writeFailure { throw writeFailure }
            guard first <= last else { return [] }
            guard first >= table.firstIndex, last <= table.lastIndex else {
                throw StorageError.indexOutOfRange(requested: first < table.firstIndex ? first : last,
                                                   firstIndex: table.firstIndex, lastIndex: table.lastIndex)
            }
            var result: [StoredEntry] = []
            var payloadBytes = 0
            var index = first
            while index <= last, result.isEmpty || payloadBytes < payloadBytesMax {
                let run = try readRun(from: index, through: last)
                for entry in run {
                    if !result.isEmpty && payloadBytes + entry.payload.count > payloadBytesMax { return result }
                    payloadBytes += entry.payload.count
                    result.append(entry)
                }
                index = LogIndex(index.rawValue + UInt64(run.count))
            }
            return result
        }
    }

    /// Reads the longest run of entries starting at `first` that sit in one segment, with one `pread`.
    private func readRun(from first: LogIndex, through last: LogIndex) throws -> [StoredEntry] {
        let start = table.slot(at: first)!
        var slots = [start]
        var index = first.next
        while index <= last, let slot = table.slot(at: index), slot.segment == start.segment,
              slot.offset + slot.recordBytes - start.offset <= Self.readRunBytesMax {
            slots.append(slot)
            index = index.next
        }
        let length = slots.last!.offset + slots.last!.recordBytes - start.offset
        let bytes: [UInt8]
        let path: String
        if let roll = pendingRoll, start.segment == roll.sequence {
            // Records of the segment a roll is creating: still in memory.
            bytes = Array(roll.records[start.offset..<(start.offset + length)])
            path = self.path(Segment.fileName(sequence: roll.sequence))
        } else {
            if start.segment == active.sequence, slots.last!.offset + slots.last!.recordBytes > active.writeOffset {
                try writeUnwritten()
            }
            let segment = segments.first { $0.sequence == start.segment }!
            bytes = try segment.file.read(count: length, at: start.offset)
            path = segment.path
        }
        return try bytes.withUnsafeBytes { raw in
            try slots.enumerated().map { position, slot in
                let local = slot.offset - start.offset
                let expected = LogIndex(first.rawValue + UInt64(position))
                guard case let .record(header, _) = RecordFormat.probe(
                        UnsafeRawBufferPointer(rebasing: raw[local...]), at: 0, partition: partition,
                        payloadBytesMax: options.payloadBytesMax, segmentOffset: slot.offset),
                      header.index == expected, header.term == slot.term else {
                    throw StorageError.corruptRecord(file: path, offset: slot.offset, reason: "record changed on disk after recovery")
                }
                return StoredEntry(index: header.index, term: header.term,
                                   payload: RecordFormat.payload(UnsafeRawBufferPointer(rebasing: raw[local...]), at: 0, header: header))
            }
        }
    }

    // MARK: Writing

    /// Appends `entries` (which must continue the log at `lastIndex + 1`, contiguous, with
    /// non-decreasing terms). Returns once they are written and readable; `onDurable` runs
    /// after a sync covering them has returned. Validation and write errors are thrown here.
    ///
    /// `startingSync: false` (journaled logs only; others sync at once anyway) queues the
    /// journal record without waking the journal's thread: the caller appends to several
    /// logs in a row and then calls `NodeJournal.startSync()` once, so one sync covers them.
    public func append(_ entries: [StoredEntry], startingSync: Bool = true,
                       onDurable: @escaping DurabilityCompletion) throws {
        var completed: [DurabilityCompletion] = []
        defer { for completion in completed { completion(.success(())) } }
        try lock.withLock {
            try checkOpen()
            guard !entries.isEmpty else {
                completed = try journal?.flush() ?? groupCommit.flush()
                completed.append(onDurable)
                return
            }
            try validate(entries)
            // Filled as the records go in, so appends that a roll's flush made durable are
            // reported by the `defer` above even when this append then fails.
            try writeRecords(entries, completing: &completed)
            if let journal {
                try journal.append(.append(partition, entries), startingSync: startingSync, completion: onDurable)
            } else {
                try groupCommit.submit(endOffset: active.writeOffset, completion: onDurable)
            }
        }
    }

    /// Appends `entries` and returns once they are durable.
    public func append(_ entries: [StoredEntry]) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            do {
                try append(entries) { result in continuation.resume(with: result) }
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }

    /// Makes every append so far durable before returning (their completions run first).
    public func sync() throws {
        let completed = try lock.withLock {
            try checkOpen()
            return try journal?.flush() ?? groupCommit.flush()
        }
        for completion in completed { completion(.success(())) }
    }

    /// Removes every entry after `index` (Raft conflict resolution, §5.3). Pending appends
    /// are made durable first, so an acknowledgement is never withdrawn silently. The caller
    /// appends nothing to this log until it returns.
    public func truncateSuffix(after index: LogIndex) throws {
        try discardDurably(.truncate(partition, after: index), check: {
            guard index >= boundary.index else {
                throw StorageError.indexOutOfRange(requested: index, firstIndex: table.firstIndex, lastIndex: table.lastIndex)
            }
            return index < table.lastIndex
        }, change: { try cutSuffix(after: index) })
    }

    /// Drops every entry up to and including `index` (covered by a snapshot, §7) and deletes
    /// segments that hold nothing newer. `index` must be in the log; see `resetForSnapshot`.
    ///
    /// The new boundary is written and synced without the log's lock, so appends and reads go
    /// on meanwhile, from other threads too, however long the disk takes: a replica compacts
    /// off its event loop, which reads the same log (`filesLock` keeps truncations and resets
    /// out until the compaction is done).
    public func compactPrefix(through index: LogIndex) throws {
        try filesLock.withLock {
            let planned = try lock.withLock { () throws -> CompactionBoundary? in
                try checkOpen()
                guard index > boundary.index else { return nil }
                guard let slot = table.slot(at: index) else {
                    throw StorageError.indexOutOfRange(requested: index, firstIndex: table.firstIndex, lastIndex: table.lastIndex)
                }
                // Appends only add later segments, so this stays the first one still needed.
                // While a roll is creating the next segment, the active one stays (the roll
                // syncs it; a later compaction deletes it).
                var keepFrom = table.slot(at: index.next)?.segment ?? active.sequence
                if pendingRoll != nil { keepFrom = min(keepFrom, active.sequence) }
                return CompactionBoundary(index: index, term: slot.term, firstSegment: keepFrom)
            }
            guard let newBoundary = planned else { return }
            lock.withLock { boundaryGateForTesting }?.wait()
            // The boundary names the first live segment and is durable before any segment
            // goes: whichever of the older ones a crash or a failed unlink leaves, reopening
            // deletes them (`RecoveredLog`), and a later compaction deletes them too.
            try MetadataFile.write(newBoundary.encoded(), to: path(Self.boundaryFileName), policy: options.syncPolicy)
            let removed = try lock.withLock { () throws -> Bool in
                try checkOpen()
                boundary = newBoundary
                table.removePrefix(through: newBoundary.index)
                return try removeSegments(where: { $0.sequence < newBoundary.firstSegment }, syncingDirectory: false)
            }
            if removed && options.syncPolicy == .fsyncPerBatch { try PosixFile.syncDirectory(directory) }
        }
    }

    /// Discards the whole log because a snapshot at (`index`, `term`) replaces it (a follower
    /// installing the leader's snapshot, §7); the next append must be `index + 1`.
    /// Save the snapshot first. A snapshot older than the compaction boundary is refused.
    /// The caller appends nothing to this log until it returns.
    public func resetForSnapshot(index: LogIndex, term: Term) throws {
        try discardDurably(.reset(partition, index: index, term: term), check: {
            guard index >= boundary.index else {
                throw StorageError.indexOutOfRange(requested: index, firstIndex: table.firstIndex, lastIndex: table.lastIndex)
            }
            return true
        }, change: { try reset(index: index, term: term) })
    }

    /// A truncation or a reset: `check` (under the lock) throws if it cannot be done and says
    /// whether there is anything to do; pending appends are made durable, then `change` runs.
    /// With a journal, `record` is durable before the files change, so replay can redo it,
    /// and the wait for the journal's sync (of everything queued on the node, then of the
    /// record) holds no lock: reads of the entries the change keeps go on meanwhile, from
    /// other threads too, however long the disk takes. `check` runs again before `change`.
    private func discardDurably(_ record: JournalRecord, check: () throws -> Bool, change: () throws -> Void) throws {
        filesLock.lock()
        defer { filesLock.unlock() }
        var completed: [DurabilityCompletion] = []
        defer { for completion in completed { completion(.success(())) } }
        let recorded = try lock.withLock { () throws -> Bool in
            try checkOpen()
            try finishRoll()
            try checkOpen()  // finishing the roll may have let go of the lock
            guard try check() else { return false }
            guard let journal else {
                completed = try groupCommit.flush()
                try change()
                return false
            }
            try journal.append(record) { _ in }
            return true
        }
        guard recorded, let journal else { return }
        completed = try journal.flush()
        try lock.withLock {
            try checkOpen()
            try finishRoll()
            if try check() { try change() }
        }
    }

    // MARK: Hard state

    /// Replaces the hard state atomically (temp + fsync + rename + directory fsync).
    /// Save it when term or vote change; the commit index may lag (it is recomputed), but
    /// must never run ahead of entries already durable in this log: recovery trusts it as a
    /// floor and refuses to cut a damaged tail below it.
    public func saveHardState(_ state: HardState) throws {
        journal?.waitWhileSyncsPaused()
        try hardStateLock.withLock {
            if hardStateClosed { throw StorageError.closed }
            try MetadataFile.write(state.encoded(), to: path(Self.hardStateFileName), policy: options.syncPolicy)
        }
    }

    /// The last saved hard state, or `.initial` for a new log.
    public func loadHardState() throws -> HardState {
        try hardStateLock.withLock { try Self.readHardState(path(Self.hardStateFileName)) }
    }

    private static func readHardState(_ path: String) throws -> HardState {
        guard let bytes = try MetadataFile.read(path) else { return .initial }
        return try HardState(decoding: bytes, path: path)
    }

    // MARK: Applied mark

    /// Notes that every entry through `index` is committed and applied by this log's
    /// replica, so that a restart can rebuild the replica's state from its own log before
    /// it hears from its group (`loadAppliedMark`). Replaced like the hard state (temp file,
    /// rename) but never synced: the mark is advice, and one lost to a crash of the machine
    /// only means that fewer entries are applied before the node serves. It must never run
    /// ahead of this log's durable entries (applied entries are durable).
    public func saveAppliedMark(_ index: LogIndex) throws {
        var bytes = [UInt8]()
        appendLittleEndian(index.rawValue, to: &bytes)
        try hardStateLock.withLock {
            if hardStateClosed { throw StorageError.closed }
            try MetadataFile.write(bytes, to: path(Self.appliedMarkFileName), policy: .none)
        }
    }

    /// The last saved applied mark, `.zero` if none was saved. Throws `corruptMetadata` for
    /// a damaged file (possible after a crash of the machine, the file being unsynced).
    public func loadAppliedMark() throws -> LogIndex {
        let path = path(Self.appliedMarkFileName)
        return try hardStateLock.withLock {
            guard let bytes = try MetadataFile.read(path) else { return .zero }
            guard bytes.count == 8 else { throw StorageError.corruptMetadata(file: path, reason: "applied mark of \(bytes.count) bytes") }
            return LogIndex(readLittleEndian(UInt64.self, bytes, 0))
        }
    }

    // MARK: Lifecycle

    /// Makes pending appends durable, stops the sync thread and refuses further calls.
    public func close() throws {
        // No hard-state save writes after this returns (it waits for one in progress).
        hardStateLock.withLock { hardStateClosed = true }
        var completed: [DurabilityCompletion] = []
        defer {
            // Outside the lock: completions may call back into the log.
            groupCommit.close()
            for completion in completed { completion(.success(())) }
        }
        try lock.withLock {
            guard !closed else { return }
            if journal != nil {
                // Before `closed` is set: a checkpoint skips a closed log, so none may run while
                // a roll's records are only in memory (finishing one may wait, letting go of
                // the lock). A failed roll stops the log: handled below as any write failure.
                while pendingRoll != nil, writeFailure == nil { try? finishRoll() }
                guard !closed else { return }  // closed by another caller meanwhile
            }
            closed = true
            if let journal {
                // A clean close leaves the file durable on its own: the journal may drop its records.
                completed = try journal.flush()
                // Not so after a failed write: the log stays registered, so no checkpoint drops
                // the records its file lacks (and the journal keeps its files); reopening replays them.
                if let writeFailure { throw writeFailure }
                try writeUnwritten()
                _ = try groupCommit.flush(force: true)
                journal.unregister(partition, durableIndex: table.lastIndex)
            } else {
                completed = try groupCommit.flush()
            }
        }
    }

    public var statistics: Statistics {
        let commit = groupCommit.currentStatistics
        return lock.withLock {
            Statistics(dataSyncs: commit.dataSyncs, durableAppends: commit.completedAppends, segmentCount: segments.count)
        }
    }

    /// Tests: hold each compaction before it writes its boundary until `gate` is signalled.
    func setBoundaryGateForTesting(_ gate: DispatchSemaphore?) {
        lock.withLock { boundaryGateForTesting = gate }
    }

    /// Tests: hold each segment roll before its sealing sync until `gate` is signalled.
    func setRollGateForTesting(_ gate: DispatchSemaphore?) {
        lock.withLock { rollGateForTesting = gate }
    }

    /// Tests: hold the group-commit thread before each sync until `gate` is signalled.
    func setSyncGateForTesting(_ gate: DispatchSemaphore?) {
        groupCommit.setSyncGateForTesting(gate)
    }

}
