import CartStorage
import NIOCore

/// Starts the node journal's sync once per burst of appends on one event loop, instead of
/// once per partition.
///
/// A peer batch carries Raft messages for many partitions, and a journal sync completes the
/// appends of many partitions at once; both make the replicas of a loop take their Readies
/// one after another. If each append woke the journal thread, the first one would start a
/// sync alone and the others would wait for the next: two syncs (≈ 40 µs of CPU each on
/// this class of machine) where one does. So replicas queue their journal records without
/// waking the journal, and ask for a start here: it runs as a task after the Readies already
/// queued on the loop. Loop-confined, hence `@unchecked Sendable`.
final class JournalSyncStarter: @unchecked Sendable {
    private let loop: any EventLoop
    private let journal: NodeJournal
    private var startScheduled = false

    init(loop: any EventLoop, journal: NodeJournal) {
        self.loop = loop
        self.journal = journal
    }

    /// Called on the loop after queueing a record with `startingSync: false`.
    func requestStart() {
        loop.assertInEventLoop()
        guard !startScheduled else { return }
        startScheduled = true
        loop.execute { [self] in
            startScheduled = false
            journal.startSync()
        }
    }
}
