import CartStorage
import CartTypes
import Logging

// Checks and repairs at start, before the replica's Raft core is built from its storage.

extension PartitionReplica {
    /// The state is rebuilt from the newest snapshot plus the log after it, so the log must
    /// start no later than the entry right after that snapshot. Logs are only compacted or
    /// reset to an index a saved snapshot covers, so this holds unless files were lost or
    /// removed by hand (the newest snapshot gone, an older one left). Then the entries in
    /// between are missing, and resetting the log to the older snapshot would throw away
    /// entries this replica acknowledged: the replica refuses to start instead, naming the
    /// gap. (Removing the partition's directory makes it fetch everything from its group.)
    static func checkLogContinues(snapshotIndex: LogIndex, log: PartitionLog, partition: PartitionID) throws(NodeError) {
        guard log.firstIndex > snapshotIndex.next else { return }
        throw NodeError(.storage, "the log of \(partition) starts at \(log.firstIndex), after its newest snapshot (\(snapshotIndex)): "
                        + "entries \(snapshotIndex.next)…\(log.firstIndex.previous) are missing")
    }

    /// Installing a leader's snapshot saves it, then resets the log to start after it. A
    /// crash between the two leaves a snapshot the log does not continue: entries end before
    /// its index, or hold another term there. Raft would then take the log to end at the
    /// snapshot and append the next entries after it, which the log refuses (a gap), and the
    /// replica would stop at every restart. The snapshot holds committed state, so the reset
    /// is finished here, as the install would have done.
    static func finishInterruptedInstall(of snapshot: CartStorage.Snapshot, in log: PartitionLog, partition: PartitionID,
                                         logger: Logger) throws(NodeError) {
        let continues = log.lastIndex >= snapshot.lastIndex && (try? log.term(at: snapshot.lastIndex)) == snapshot.term
        guard !continues else { return }
        logger.warning("finishing an interrupted snapshot install", metadata: [
            "partition": "\(partition)", "snapshot": "\(snapshot.lastIndex)", "logLast": "\(log.lastIndex)",
        ])
        do {
            try log.resetForSnapshot(index: snapshot.lastIndex, term: snapshot.term)
        } catch {
            throw NodeError(.storage, "cannot reset the log of \(partition) after its snapshot \(snapshot.lastIndex): \(error)")
        }
    }
}
