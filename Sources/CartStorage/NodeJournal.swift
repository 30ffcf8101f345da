import CartTypes
import Foundation
import Logging

/// A write-ahead journal shared by every partition log of a node: one `fdatasync` makes the
/// appends of all partitions waiting at that moment durable.
///
/// Journaled partition logs (`PartitionLog.open(..., journal:)`) still write their records
/// into their own segments (the store they read from), but only into the page cache; what
/// makes an append durable is its *append* record here. Truncations and snapshot resets
/// write their record and flush the journal before they change the partition file, so the
/// journal always holds every operation the partition file may not show durably yet.
///
/// Files: `<directory>/00000000000000000001.journal`, … (`JournalFile`, records in
/// `JournalRecord`). Once the active file passes `journalBytesMax`, a checkpoint starts a
/// new file, syncs every registered partition log, writes a *checkpoint* record listing how
/// far each partition file is durable, and deletes the older files.
///
/// Concurrency: appenders encode their record and add it to an in-memory batch under one
/// `NSCondition`; a dedicated thread takes the whole batch, writes it with one `pwrite`,
/// syncs once and completes every append in it (no lock held). A `flush` does the same on
/// the caller's thread, waiting only for a write already in flight, never for completions,
/// so a caller may hold its partition lock while flushing. Checkpoints run on a thread of
/// their own and take partition locks without holding the journal's. Hence `@unchecked Sendable`.
///
/// Durability is cumulative: batches are written and synced one after another, so a
/// completion reporting success means every record appended before it is durable too. The
/// completions of a batch a `flush` took run on the flushing thread and may run before those
/// of the batch just before it (still running on the journal thread); callers that track
/// durability in order (the node's replicas) wait for the oldest outstanding one.
public final class NodeJournal: @unchecked Sendable {
    public struct Options: Sendable, Hashable {
        /// Size past which the active file is checkpointed and replaced; also what each file preallocates.
        public var journalBytesMax: Int
        public var syncPolicy: SyncPolicy

        public init(journalBytesMax: Int = 64 * 1024 * 1024, syncPolicy: SyncPolicy = .fsyncPerBatch) {
            self.journalBytesMax = journalBytesMax
            self.syncPolicy = syncPolicy
        }
    }

    /// A batch whose write and sync take this long counts as slow (`Statistics.slowSyncs`).
    public static let slowSyncThreshold = Duration.milliseconds(100)
    /// A batch whose write and sync take this long is logged as a warning: every append
    /// waiting on the node (and every replica's answers that need them) waited as long.
    public static let stalledSyncThreshold = Duration.milliseconds(500)

    public struct Statistics: Hashable, Sendable {
        /// `fdatasync` calls of the journal's group commit.
        public var dataSyncs: UInt64 = 0
        /// Records whose completion reported success.
        public var durableRecords: UInt64 = 0
        public var checkpoints: UInt64 = 0
        /// Batches whose write and `fdatasync` took `slowSyncThreshold` or longer.
        public var slowSyncs: UInt64 = 0
        /// The longest write and `fdatasync` of one batch so far.
        public var longestSync: Duration = .zero
        /// `longestSync` in whole microseconds, rounded up (any sync shows as at least 1 µs).
        public var longestSyncMicros: UInt64 {
            let (seconds, attoseconds) = longestSync.components
            return UInt64(seconds) * 1_000_000 + UInt64((attoseconds + 999_999_999_999) / 1_000_000_000_000)
        }
        /// Journal files on disk.
        public var fileCount = 0
    }

    private struct Batch {
        var bytes: [UInt8]
        var waiters: [DurabilityCompletion]
        var file: JournalFile
        var offset: Int
    }

    public let directory: String
    public let options: Options
    private let logger: Logger
    private let condition = NSCondition()
    private var active: JournalFile
    /// Bytes of the active file written or handed to a write in flight.
    private var writeOffset = 0
    private var pending: [UInt8] = []
    private var waiters: [DurabilityCompletion] = []
    private var writing = false
    private var closing = false
    private var threadFinished = false
    private var checkpointing = false
    /// Set by `pauseSyncs` (fault injection): the journal thread takes no batch meanwhile.
    private var paused = false
    private var pausesHardStates = true
    private var failure: StorageError?
    private var statistics = Statistics()
    private var fileSequences: [UInt64]
    /// The open logs a checkpoint syncs. Held strongly until they close: a log dropped
    /// without closing is still synced before a checkpoint drops the files holding its
    /// records. (A weak reference would also give every log a side table, which makes every
    /// retain and release of it, on the hot path of each append, take the slow path.)
    private var logs: [PartitionID: PartitionLog] = [:]
    /// Per partition, how far its file is known durable (what the next checkpoint record says
    /// for partitions it does not sync itself).
    private var durableIndices: [PartitionID: LogIndex]
    /// Operations read back at open that no partition log has taken yet.
    private var recovered: [PartitionID: JournalRecovery.PartitionOps]

    private init(directory: String, options: Options, logger: Logger, recovery: JournalRecovery, active: JournalFile) {
        self.directory = directory
        self.options = options
        self.logger = logger
        self.active = active
        self.fileSequences = recovery.sequences + [active.sequence]
        self.durableIndices = recovery.checkpoint
        self.recovered = recovery.partitions
        statistics.fileCount = fileSequences.count
        let thread = Thread { [self] in run() }
        thread.name = "cart-journal"
        thread.start()
    }

    /// Opens the journal in `directory` (creating it if needed), reading back every operation
    /// the partition logs must replay, and starts a new active file. Open the journal before
    /// the partition logs and close it after them.
    public static func open(directory: String, options: Options = .init(),
                            logger: Logger = Logger(label: "cart.storage.journal")) throws -> NodeJournal {
        precondition(options.journalBytesMax > 0, "journalBytesMax must be positive")
        try PosixFile.makeDirectory(directory)
        let recovery = try JournalRecovery.scan(directory: directory, logger: logger)
        let active = try JournalFile.create(directory: directory, sequence: (recovery.sequences.last ?? 0) + 1,
                                            capacityBytes: options.journalBytesMax, policy: options.syncPolicy)
        return NodeJournal(directory: directory, options: options, logger: logger, recovery: recovery, active: active)
    }

    public var currentStatistics: Statistics { condition.locked { statistics } }

    /// Lets a checkpoint in progress finish, makes every record durable and completes it,
    /// then stops the thread; later appends are refused with `StorageError.closed`.
    /// When every log that used the journal was closed (their files synced) and none of the
    /// operations read back at open is still waiting for its log, the journal files are no
    /// longer needed and are deleted: a node closed cleanly leaves an empty journal.
    public func close() {
        let obsolete = condition.locked { () -> Bool in
            while checkpointing { condition.wait() }
            closing = true
            condition.broadcast()
            while !threadFinished { condition.wait() }
            return failure == nil && recovered.isEmpty && logs.isEmpty
        }
        guard obsolete else { return }
        do {
            try deleteFiles(before: .max)
        } catch {
            logger.warning("could not delete the journal files after a clean close", metadata: ["error": "\(error)"])
        }
    }

    /// True if `directory` holds journal files, which may hold acknowledged appends that
    /// only a journaled open of the partition logs replays.
    public static func hasFiles(in directory: String) throws -> Bool {
        guard PosixFile.exists(directory) else { return false }
        return try PosixFile.listDirectory(directory).contains { JournalFile.sequence(ofFileName: $0) != nil }
    }

    /// Starts a new file, syncs every registered partition log, records the checkpoint and
    /// deletes the older files. Runs by itself once the active file passes `journalBytesMax`.
    public func checkpoint() throws {
        try condition.locked {
            while checkpointing { condition.wait() }
            if closing { throw StorageError.closed }
            checkpointing = true
        }
        try performCheckpoint()
    }

    // MARK: Partition logs

    /// The operations of `partition` read back at open (nil if none); each is handed out once.
    func takeRecovered(_ partition: PartitionID) -> JournalRecovery.PartitionOps? {
        condition.locked { recovered.removeValue(forKey: partition) }
    }

    /// Gives back operations taken by a log whose open failed.
    func returnRecovered(_ partition: PartitionID, _ ops: JournalRecovery.PartitionOps) {
        condition.locked { recovered[partition] = ops }
    }

    /// Adds `log` to the logs a checkpoint syncs; its file is durable through `durableIndex`.
    func register(_ log: PartitionLog, durableIndex: LogIndex) {
        condition.locked {
            logs[log.partition] = log
            durableIndices[log.partition] = durableIndex
        }
    }

    /// `partition`'s log closed with its file durable through `durableIndex`.
    func unregister(_ partition: PartitionID, durableIndex: LogIndex) {
        condition.locked {
            logs[partition] = nil
            durableIndices[partition] = durableIndex
        }
    }

    /// Adds `record` to the next batch; `completion` runs once a sync covering it returned.
    /// With `startingSync` false the journal thread is not woken for it: the record waits
    /// for the next batch someone starts (another append, the end of a sync in flight, or
    /// `startSync()`), so a caller queueing several partitions' appends in a row can have
    /// one sync cover them all. Such a caller must call `startSync()` once it is done.
    func append(_ record: JournalRecord, startingSync: Bool = true, completion: @escaping DurabilityCompletion) throws {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(record.encodedBytes)
        record.encode(into: &bytes)
        try condition.locked {
            if let failure { throw failure }
            if closing { throw StorageError.closed }
            if case let .truncate(partition, index) = record { lowerDurableIndex(partition, to: index) }
            if case let .reset(partition, index, _) = record { lowerDurableIndex(partition, to: index) }
            if pending.isEmpty { pending = bytes } else { pending += bytes }
            waiters.append(completion)
            if startingSync { condition.broadcast() }
        }
    }

    /// Fault injection: from now on the journal writes and syncs nothing, as if the disk's
    /// syncs did not return, until `resumeSyncs` (or `close`). Appends queue up and their
    /// completions wait; a `flush` (a truncation, a checkpoint) waits too, and so do the
    /// hard-state saves of its logs unless `hardStates` is false (a disk that stalls just
    /// after an election's save). For tests of what a stalled disk does to the node above.
    public func pauseSyncs(hardStates: Bool = true) {
        condition.locked {
            paused = true
            pausesHardStates = hardStates
        }
    }

    public func resumeSyncs() {
        condition.locked {
            paused = false
            condition.broadcast()
        }
    }

    /// Returns once syncs are not paused (at once unless `pauseSyncs` is in effect): other
    /// syncs of the node's disk (a log's hard state) wait here, as a stalled disk would hold them.
    public func waitWhileSyncsPaused() {
        condition.locked {
            while paused && pausesHardStates && !closing { condition.wait() }
        }
    }

    /// Wakes the journal thread for the records queued with `startingSync: false`.
    public func startSync() {
        condition.locked { condition.broadcast() }
    }

    /// Writes and syncs everything appended so far on this thread (after a write already in
    /// flight) and returns the completions made durable; the caller runs them after
    /// releasing its own locks.
    func flush() throws -> [DurabilityCompletion] {
        let batch = try condition.locked { () throws -> Batch? in
            while writing || (paused && !closing) { condition.wait() }
            if let failure { throw failure }
            return pending.isEmpty ? nil : takeBatch()
        }
        guard let batch else { return [] }
        let (result, elapsed) = perform(batch)
        finish(batch, result, elapsed: elapsed)
        if case let .failure(error) = result {
            for waiter in batch.waiters { waiter(.failure(error)) }
            throw error
        }
        return batch.waiters
    }

    // MARK: The journal thread

    private func run() {
        Thread.current.name = "cart-journal"  // set from the thread itself, so `top -H` shows it
        while let batch = nextBatch() {
            let (result, elapsed) = perform(batch)
            finish(batch, result, elapsed: elapsed)
            for waiter in batch.waiters { waiter(result) }
        }
    }

    /// Blocks until records wait for a sync; nil once closing with nothing left (or stopped).
    private func nextBatch() -> Batch? {
        condition.lock()
        defer { condition.unlock() }
        while (pending.isEmpty && !closing) || writing || (paused && !closing) { condition.wait() }
        if pending.isEmpty || failure != nil {
            let abandoned = waiters
            waiters.removeAll()
            pending.removeAll()
            threadFinished = true
            condition.broadcast()
            let error = failure ?? .closed
            condition.unlock()
            for waiter in abandoned { waiter(.failure(error)) }
            condition.lock()
            return nil
        }
        return takeBatch()
    }

    /// Called with the lock held: hands everything pending to one writer.
    private func takeBatch() -> Batch {
        let batch = Batch(bytes: pending, waiters: waiters, file: active, offset: writeOffset)
        writeOffset += pending.count
        pending = []
        waiters = []
        writing = true
        return batch
    }

    /// One `pwrite` and one `fdatasync`, without the lock (`writing` keeps others out), and
    /// how long they took.
    private func perform(_ batch: Batch) -> (Result<Void, StorageError>, Duration) {
        let clock = ContinuousClock()
        let started = clock.now
        do {
            try batch.file.write(batch.bytes, at: batch.offset)
            if options.syncPolicy == .fsyncPerBatch { try batch.file.file.dataSync() }
            return (.success(()), clock.now - started)
        } catch let error as StorageError {
            return (.failure(error), clock.now - started)
        } catch {
            return (.failure(.syncFailed(path: batch.file.path, errno: EIO)), clock.now - started)
        }
    }

    private func finish(_ batch: Batch, _ result: Result<Void, StorageError>, elapsed: Duration) {
        if elapsed >= Self.stalledSyncThreshold {
            logger.warning("slow journal sync: appends waited on the disk", metadata: [
                "ms": "\(elapsed.millisecondsText)", "bytes": "\(batch.bytes.count)", "records": "\(batch.waiters.count)",
            ])
        }
        let startCheckpoint = condition.locked { () -> Bool in
            writing = false
            statistics.longestSync = max(statistics.longestSync, elapsed)
            if elapsed >= Self.slowSyncThreshold { statistics.slowSyncs += 1 }
            switch result {
            case .success:
                if options.syncPolicy == .fsyncPerBatch { statistics.dataSyncs += 1 }
                statistics.durableRecords += UInt64(batch.waiters.count)
            case .failure(let error):
                if failure == nil { logger.error("journal write failed; the journal stops", metadata: ["error": "\(error)"]) }
                failure = error
            }
            condition.broadcast()
            guard writeOffset > options.journalBytesMax, !checkpointing, !closing, failure == nil else { return false }
            checkpointing = true
            return true
        }
        guard startCheckpoint else { return }
        let thread = Thread { [self] in
            do {
                try performCheckpoint()
            } catch {
                logger.error("journal checkpoint failed", metadata: ["error": "\(error)"])
            }
        }
        thread.name = "cart-journal-checkpoint"
        thread.start()
    }

    // MARK: Checkpoint

    /// Called with `checkpointing` set by this caller; clears it when done.
    ///
    /// Every record appended before the new file becomes active describes a partition write
    /// made before it, so the partition syncs that follow cover it: the older files are no
    /// longer needed once the checkpoint record (in the new file) is durable. A crash before
    /// that leaves them in place and recovery replays them as if no checkpoint had begun.
    private func performCheckpoint() throws {
        defer { condition.locked { checkpointing = false; condition.broadcast() } }
        do {
            let sequence = condition.locked { active.sequence } + 1
            let file = try JournalFile.create(directory: directory, sequence: sequence,
                                              capacityBytes: options.journalBytesMax, policy: options.syncPolicy)
            let (registered, untaken) = condition.locked { () -> ([PartitionLog], [JournalRecovery.PartitionOps]) in
                active = file
                writeOffset = 0
                fileSequences.append(sequence)
                return (Array(logs.values), Array(recovered.values))
            }
            // Operations of partitions not opened since the restart must outlive the old files.
            for ops in untaken {
                for op in ops.ops { try append(op) { _ in } }
            }
            let clock = ContinuousClock()
            let started = clock.now
            var longestLocked = Duration.zero
            var synced: [PartitionID: LogIndex] = [:]
            for log in registered {
                try log.checkpointPresync()
                let locked = clock.now
                if let index = try log.checkpointSync() { synced[log.partition] = index }
                longestLocked = max(longestLocked, clock.now - locked)
            }
            let indices = condition.locked { () -> [PartitionID: LogIndex] in
                durableIndices.merge(synced) { _, new in new }
                return durableIndices
            }
            try append(.checkpoint(indices)) { _ in }
            for completion in try flush() { completion(.success(())) }
            try deleteFiles(before: sequence)
            condition.locked { statistics.checkpoints += 1 }
            logger.info("journal checkpoint", metadata: [
                "file": "\(sequence)", "partitions": "\(synced.count)",
                "ms": "\((clock.now - started).millisecondsText)",
                "longestLockedMs": "\(longestLocked.millisecondsText)",
            ])
        } catch let error as StorageError {
            condition.locked { if failure == nil { failure = error } }
            throw error
        }
    }

    private func deleteFiles(before sequence: UInt64) throws {
        let doomed = condition.locked { fileSequences.filter { $0 < sequence } }
        for old in doomed { try PosixFile.remove(directory + "/" + JournalFile.fileName(sequence: old)) }
        if options.syncPolicy == .fsyncPerBatch { try PosixFile.syncDirectory(directory) }
        condition.locked {
            fileSequences.removeAll { $0 < sequence }
            statistics.fileCount = fileSequences.count
        }
    }

    /// With the lock held: a truncation or reset leaves the file durable only up to `index`.
    private func lowerDurableIndex(_ partition: PartitionID, to index: LogIndex) {
        durableIndices[partition] = min(durableIndices[partition] ?? .zero, index)
    }
}

extension Duration {
    /// Milliseconds with one decimal, for log lines ("12.3").
    var millisecondsText: String {
        let (seconds, attoseconds) = components
        let micros = seconds * 1_000_000 + attoseconds / 1_000_000_000_000
        return "\(micros / 1_000).\(micros % 1_000 / 100)"
    }
}
