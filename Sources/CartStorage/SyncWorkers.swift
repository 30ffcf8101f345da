import Foundation

/// A few threads that make appends durable for many partition logs: the node's replacement
/// for one group-commit thread per log.
///
/// With a thread per log, every sync costs a thread wake-up and a sleep for that log alone,
/// and a node hosting 16 partitions runs 16 sync threads on a couple of cores. Shared
/// workers take logs from one queue in the order their first waiting append arrived; a
/// worker syncs everything that log has waiting, so while all workers are busy, appends pile
/// up and share the next sync (group commit across time). A handful of workers still lets
/// syncs of different files overlap, which the device merges (see README: syncs of different
/// files run in parallel).
///
/// Completions of one log's consecutive syncs may run concurrently on two workers (a sync
/// that started after the previous one finished can end before that one's completions have
/// all run). Durability is cumulative, so callers that need order track it themselves.
///
/// Concurrency: one `NSCondition` guards the queue; workers never hold it while syncing.
/// `@unchecked Sendable` because of that lock.
public final class SyncWorkers: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [GroupCommit] = []
    private var queued: Set<ObjectIdentifier> = []
    private var stopping = false
    private var running = 0

    /// Starts `threads` workers (at least one), named `name-0`, `name-1`, …
    public init(threads: Int, name: String = "cart-sync") {
        let count = max(1, threads)
        running = count
        for index in 0..<count {
            let thread = Thread { [self] in run() }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }

    /// Logs waiting for a worker right now (for tests and metrics).
    public var queuedCount: Int { condition.locked { queue.count } }

    /// Queues `log` unless it already waits; a worker will sync whatever it has waiting.
    func enqueue(_ log: GroupCommit) {
        condition.locked {
            guard !stopping, queued.insert(ObjectIdentifier(log)).inserted else { return }
            queue.append(log)
            condition.signal()
        }
    }

    /// Lets the workers finish the queue, then stops them. Close the logs first: a log's
    /// `close` syncs what it still has on its own thread, so nothing is left behind.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }

    private func run() {
        while let log = next() {
            log.syncForWorker()
        }
    }

    private func next() -> GroupCommit? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !stopping { condition.wait() }
        guard !queue.isEmpty else {
            running -= 1
            condition.broadcast()
            return nil
        }
        let log = queue.removeFirst()
        queued.remove(ObjectIdentifier(log))
        return log
    }
}
