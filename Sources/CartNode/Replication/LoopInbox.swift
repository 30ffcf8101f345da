import NIOConcurrencyHelpers
import NIOCore

/// Work that other threads hand to one event loop, run there in as few hops as possible.
///
/// The storage threads complete the appends of many partitions at once (one journal sync
/// covers every partition that was waiting). Posting each completion with its own
/// `loop.execute` wakes the loop once per partition, and the loop may finish the first
/// partitions' Readies and flush their Raft messages before the others arrive, sending
/// several small peer batches instead of one. Through an inbox, the first post schedules a
/// drain and every post made before the drain runs rides along with it.
final class LoopInbox: Sendable {
    let loop: any EventLoop

    private struct Queue {
        var work: [@Sendable () -> Void] = []
        /// The last drained array, emptied with its capacity kept, for the next posts.
        var spare: [@Sendable () -> Void] = []
        var drainScheduled = false
    }

    private let queue = NIOLockedValueBox(Queue())

    init(loop: any EventLoop) {
        self.loop = loop
    }

    /// Runs `work` on the loop, after everything posted before it.
    func post(_ work: @escaping @Sendable () -> Void) {
        let schedule = queue.withLockedValue { queue -> Bool in
            queue.work.append(work)
            guard !queue.drainScheduled else { return false }
            queue.drainScheduled = true
            return true
        }
        if schedule { loop.execute { self.drain() } }
    }

    private func drain() {
        var work = queue.withLockedValue { queue -> [@Sendable () -> Void] in
            queue.drainScheduled = false
            let work = queue.work
            queue.work = queue.spare
            queue.spare = []
            return work
        }
        for item in work { item() }
        work.removeAll(keepingCapacity: true)
        queue.withLockedValue { queue in
            if queue.spare.capacity < work.capacity { queue.spare = work }
        }
    }
}
