import CartTypes
import Foundation
import Logging

// A journaled partition log and its node journal: replaying the journal's operations at
// open, and the checkpoints that let the journal drop what the files now hold.

extension PartitionLog {
    /// Replays the journal's operations for this partition on the recovered files, syncs the
    /// result, and returns the last index now durable in the files. Every operation was
    /// done once already; replaying one on files that show it (or later ones) changes
    /// nothing that the operations after it do not redo.
    func replay(_ ops: [JournalRecord]) throws -> LogIndex {
        let cuts = Self.laterCuts(ops)
        return try lock.withLock {
            for (position, op) in ops.enumerated() {
                switch op {
                case let .append(_, entries):
                    // What a later truncation or reset threw away never comes back: the files
                    // may show that operation already (it was synced when it ran), and the
                    // entries it discarded may be of an older term than the boundary now.
                    if let cut = cuts[position] {
                        try replayAppend(entries.filter { $0.index <= cut })
                    } else {
                        try replayAppend(entries)
                    }
                case let .truncate(_, index):
                    // Below the boundary: a later compaction covers it, and the entries it
                    // kept were appended again after it (their records follow).
                    if index >= boundary.index && index < table.lastIndex { try cutSuffix(after: index) }
                case let .reset(_, index, term):
                    // The snapshot file was saved before the reset record was written.
                    if index > boundary.index { try reset(index: index, term: term) }
                case .checkpoint:
                    break
                }
            }
            try writeUnwritten()
            _ = try groupCommit.flush(force: true)
            return table.lastIndex
        }
    }

    /// For each operation, the lowest index a later truncation or reset cut the log to (a
    /// reset discards every entry before it: the log restarts after its snapshot), or nil.
    static func laterCuts(_ ops: [JournalRecord]) -> [LogIndex?] {
        var cuts = [LogIndex?](repeating: nil, count: ops.count)
        var lowest: LogIndex?
        for position in ops.indices.reversed() {
            cuts[position] = lowest
            switch ops[position] {
            case let .truncate(_, index): lowest = min(lowest ?? index, index)
            case .reset: lowest = .zero
            case .append, .checkpoint: break
            }
        }
        return cuts
    }

    /// An append record: entries at or below the compaction boundary are dropped; entries the
    /// files hold with the same term are the same entries (Raft's log matching); from the
    /// first that differs or is missing, the suffix is replaced. A record starting beyond
    /// the end (a gap) is skipped: only a later truncation or reset synced to the file can
    /// have made it, and that operation's record follows in the journal.
    func replayAppend(_ entries: [StoredEntry]) throws {
        var remaining = entries.drop { $0.index <= boundary.index }
        guard let first = remaining.first, first.index <= table.lastIndex.next else { return }
        while let entry = remaining.first, entry.index <= table.lastIndex,
              table.slot(at: entry.index)?.term == entry.term {
            remaining.removeFirst()
        }
        guard let next = remaining.first else { return }
        if next.index <= table.lastIndex { try cutSuffix(after: LogIndex(next.index.rawValue - 1)) }
        let rest = Array(remaining)
        try validate(rest)
        var completed: [DurabilityCompletion] = []  // stays empty: nothing waits while the log opens
        try writeRecords(rest, completing: &completed)
    }

    // MARK: Checkpoints

    /// A journal checkpoint's first step: writes the buffered records and syncs the active
    /// segment *without* the partition lock, so the appends of this partition go on meanwhile.
    /// The segment may hold megabytes written since the last checkpoint; `checkpointSync`,
    /// which holds the lock, then only waits for what was written after this sync. Syncing
    /// more than needed is never wrong; a failed sync is an error like any other (the pages
    /// it could not write may be reported clean afterwards, so it must not be retried away).
    func checkpointPresync() throws {
        let file = try lock.withLock { () throws -> PosixFile? in
            try checkFilesCanCatchUp()
            guard !closed, options.syncPolicy == .fsyncPerBatch else { return nil }
            try writeUnwritten()
            return active.file  // the reference keeps the descriptor open even if the segment rolls
        }
        try file?.dataSync()
    }

    /// A journal checkpoint: syncs the active segment (sealed ones were synced when the log
    /// rolled past them) and returns the last index now durable in the files; nil once closed.
    func checkpointSync() throws -> LogIndex? {
        try lock.withLock {
            try checkFilesCanCatchUp()
            guard !closed else { return nil }
            try finishRoll()
            guard !closed else { return nil }  // finishing the roll may have let go of the lock
            try writeUnwritten()
            _ = try groupCommit.flush(force: true)
            return table.lastIndex
        }
    }

    /// For journal checkpoints: throws unless a sync can make the files hold every entry of
    /// the index table. After a failed sync the kernel may have dropped pages; after a failed
    /// write the files lack records the journal holds. The checkpoint must then fail rather
    /// than let the journal delete those records. Checked before `closed`: a close that
    /// failed this way leaves the log registered with the journal.
    func checkFilesCanCatchUp() throws {
        if let failure = groupCommit.stoppedBy { throw failure }
        if let writeFailure { throw writeFailure }
    }
}
