import Foundation

/// Called once an append is durable (or failed to become durable).
public typealias DurabilityCompletion = @Sendable (Result<Void, StorageError>) -> Void

/// Shares one `fdatasync` among every append written since the previous one.
///
/// Appenders write their records into the active segment themselves (a `pwrite` into the
/// page cache) and then `submit` a completion. A dedicated thread takes every submitted
/// completion, syncs the segment once, and only then completes them all: an append is
/// reported durable only after a sync that started after its write has returned. While
/// that sync runs, new appends queue up and share the next one.
///
/// With `SyncWorkers`, the node's few shared sync threads play the dedicated thread's part
/// for many logs: a submit queues this group commit with them, and whichever worker takes it
/// syncs everything waiting at that moment, exactly as the dedicated thread would.
///
/// Concurrency: one `NSCondition` guards all state; no thread holds it while syncing.
/// Completions always run outside the lock. `@unchecked Sendable` because of that lock.
final class GroupCommit: @unchecked Sendable {
    struct Statistics: Hashable, Sendable {
        var dataSyncs: UInt64 = 0
        var completedAppends: UInt64 = 0
    }

    fileprivate struct Waiter {
        var endOffset: Int
        var completion: DurabilityCompletion
    }

    private let condition = NSCondition()
    private let policy: SyncPolicy
    /// The shared threads that sync for this log, or nil when it has a thread of its own.
    private let workers: SyncWorkers?
    private var target: PosixFile?
    private var waiters: [Waiter] = []
    private var syncInFlight = false
    private var closing = false
    private var threadFinished = false
    private var failure: StorageError?
    private var durableBytes = 0
    private var statistics = Statistics()
    /// Tests hold the sync thread here to make "appends arriving during a sync" deterministic.
    private var syncGate: DispatchSemaphore?

    init(policy: SyncPolicy, name: String, workers: SyncWorkers? = nil) {
        self.policy = policy
        self.workers = workers
        guard workers == nil else { return }
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    /// Bytes of the active segment known durable; written into new records as their fence.
    var durableFence: Int {
        condition.locked { durableBytes }
    }

    var currentStatistics: Statistics {
        condition.locked { statistics }
    }

    /// The error that stopped the log, if a sync failed.
    var stoppedBy: StorageError? {
        condition.locked { failure }
    }

    /// Switches to a new active segment whose first `durableBytes` are already durable.
    /// The caller must have flushed the previous target.
    func retarget(_ file: PosixFile, durableBytes: Int) {
        condition.locked {
            precondition(waiters.isEmpty && !syncInFlight, "retarget needs a flushed group commit")
            target = file
            self.durableBytes = durableBytes
        }
    }

    /// Registers an append whose bytes up to `endOffset` are already written to the target.
    /// Throws (without calling `completion`) if the log stopped or is closing.
    func submit(endOffset: Int, completion: @escaping DurabilityCompletion) throws {
        try condition.locked {
            if let failure { throw failure }
            if closing { throw StorageError.closed }
            waiters.append(Waiter(endOffset: endOffset, completion: completion))
            condition.broadcast()
        }
        workers?.enqueue(self)
    }

    /// Syncs now and returns the completions that became durable; the caller runs them after
    /// releasing its own locks. Waits for a sync already in flight first. `force` syncs even
    /// when no append waits (the caller wrote bytes it has not submitted, e.g. before a roll).
    func flush(force: Bool = false) throws -> [DurabilityCompletion] {
        let (batch, file) = try condition.locked { () throws -> ([Waiter], PosixFile?) in
            while syncInFlight { condition.wait() }
            if let failure { throw failure }
            let batch = waiters
            waiters.removeAll()
            // Every write is followed by a submit, so no waiters means nothing unsynced.
            if force || !batch.isEmpty { syncInFlight = true }
            return (batch, target)
        }
        guard force || !batch.isEmpty else { return [] }
        let result = syncResult(file)
        finish(batch, result)
        if case let .failure(error) = result {
            for waiter in batch { waiter.completion(.failure(error)) }
            throw error
        }
        return batch.map(\.completion)
    }

    /// Makes the sync thread wait on `gate` (then pass it on) before each sync. Tests only.
    func setSyncGateForTesting(_ gate: DispatchSemaphore?) {
        condition.locked { syncGate = gate }
    }

    /// Syncs and completes the appends still waiting, then stops the thread; later submits
    /// are refused with `StorageError.closed`.
    func close() {
        guard workers == nil else { return closeSharingWorkers() }
        condition.lock()
        closing = true
        condition.broadcast()
        while !threadFinished { condition.wait() }
        condition.unlock()
    }

    // MARK: Shared workers

    /// Called by a `SyncWorkers` thread: syncs every append waiting now, unless a sync is
    /// already in flight (its `finish` queues this log again if more arrived meanwhile).
    func syncForWorker() {
        let taken = condition.locked { () -> (batch: [Waiter], file: PosixFile?, failure: StorageError?)? in
            guard !waiters.isEmpty, !syncInFlight else { return nil }
            let batch = waiters
            waiters.removeAll()
            if let failure { return (batch, nil, failure) }
            syncInFlight = true
            return (batch, target, nil)
        }
        guard let (batch, file, stoppedBy) = taken else { return }
        if let stoppedBy { return Self.complete(batch, .failure(stoppedBy)) }
        syncAndComplete(batch, file)
    }

    /// `close` without a thread of our own: refuse new submits, let a worker's sync in
    /// flight end, then sync and complete whatever still waits on this thread.
    private func closeSharingWorkers() {
        let (batch, file, stoppedBy) = condition.locked { () -> ([Waiter], PosixFile?, StorageError?) in
            closing = true
            while syncInFlight { condition.wait() }
            let batch = waiters
            waiters.removeAll()
            if !batch.isEmpty && failure == nil { syncInFlight = true }
            return (batch, target, failure)
        }
        guard !batch.isEmpty else { return }
        if let stoppedBy { return Self.complete(batch, .failure(stoppedBy)) }
        syncAndComplete(batch, file)
    }

    // MARK: The sync thread

    private func run() {
        while let (batch, file) = nextBatch() {
            syncAndComplete(batch, file)
        }
    }

    /// Syncs `file` for `batch` (taken with `syncInFlight` set, passing the test gate first),
    /// records the outcome and runs the batch's completions, with no lock held.
    private func syncAndComplete(_ batch: [Waiter], _ file: PosixFile?) {
        if let gate = condition.locked({ syncGate }) {
            gate.wait()
            gate.signal()
        }
        let result = syncResult(file)
        finish(batch, result)
        Self.complete(batch, result)
    }

    private static func complete(_ batch: [Waiter], _ result: Result<Void, StorageError>) {
        for waiter in batch { waiter.completion(result) }
    }

    /// Blocks until appends wait for a sync; nil when closing.
    private func nextBatch() -> ([Waiter], PosixFile?)? {
        condition.lock()
        defer { condition.unlock() }
        while waiters.isEmpty && !closing { condition.wait() }
        if waiters.isEmpty || failure != nil {
            let abandoned = waiters
            waiters.removeAll()
            threadFinished = true
            condition.broadcast()
            let error = failure ?? .closed
            condition.unlock()
            for waiter in abandoned { waiter.completion(.failure(error)) }
            condition.lock()
            return nil
        }
        let batch = waiters
        waiters.removeAll()
        syncInFlight = true
        return (batch, target)
    }

    private func finish(_ batch: [Waiter], _ result: Result<Void, StorageError>) {
        let more = condition.locked { () -> Bool in
            syncInFlight = false
            switch result {
            case .success:
                if policy == .fsyncPerBatch { statistics.dataSyncs += 1 }
                if let last = batch.map(\.endOffset).max() { durableBytes = max(durableBytes, last) }
                statistics.completedAppends += UInt64(batch.count)
            case .failure(let error):
                failure = error
            }
            condition.broadcast()
            return !waiters.isEmpty && !closing
        }
        // Appends that arrived during this sync wait for the next one: hand them to a worker.
        if more { workers?.enqueue(self) }
    }

    /// Called by the thread or by `flush`, never holding the lock; `syncInFlight` keeps the
    /// other one out meanwhile.
    private func syncResult(_ file: PosixFile?) -> Result<Void, StorageError> {
        guard policy == .fsyncPerBatch, let file else { return .success(()) }
        do {
            try file.dataSync()
            return .success(())
        } catch let error as StorageError {
            return .failure(error)
        } catch {
            return .failure(.syncFailed(path: file.path, errno: EIO))
        }
    }
}

extension NSCondition {
    func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}
