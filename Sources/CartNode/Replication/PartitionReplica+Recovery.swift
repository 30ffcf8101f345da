import CartDomain
import CartStorage
import CartTypes
import Logging
import NIOCore

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

    /// What a replica rebuilt from its own log before it starts (`replayApplied`).
    struct Replayed {
        var applied: LogIndex
        var entries = 0
        var bytes = 0
    }

    /// Applies the entries after the snapshot (`applied`) through `last` to `state`: the
    /// ones this replica knew committed before it stopped (its applied mark, or the hard
    /// state's commit). A restarted node used to learn them committed only from its leader,
    /// after it had started serving, and then applied a whole snapshot interval (up to
    /// 100,000 entries per partition) on its loop, polling none of its sockets for seconds.
    /// Here it happens before the node binds its ports. Their cart events go to
    /// `recentEvents` as the loop's apply would put them; nobody watches yet.
    static func replayApplied(after applied: LogIndex, through last: LogIndex, log: PartitionLog,
                              into state: inout PartitionState, recentEvents: inout RecentCartEvents,
                              partition: PartitionID, logger: Logger) throws(NodeError) -> Replayed {
        var replayed = Replayed(applied: applied)
        while replayed.applied < last {
            let entries: [StoredEntry]
            do {
                entries = try log.entries(from: replayed.applied.next, through: last, payloadBytesMax: replayChunkBytes)
            } catch {
                throw NodeError(.storage, "cannot read the log of \(partition) after \(replayed.applied) to rebuild its state: \(error)")
            }
            let appliedAt = recentEvents.isEnabled ? NIODeadline.now().uptimeNanoseconds : 0
            for entry in entries {
                replayed.applied = entry.index
                replayed.entries += 1
                replayed.bytes += entry.payload.count
                guard !entry.payload.isEmpty,  // a leader's no-op
                      let (result, repeated) = applyCommand(entry.payload, at: entry.index, to: &state, logger: logger),
                      !repeated, case .success(let events) = result else { continue }
                for case .cart(let event) in events { recentEvents.record(event, at: appliedAt) }
            }
        }
        return replayed
    }

    /// Bytes of entries read from the log at a time by `replayApplied`.
    static let replayChunkBytes = 4 << 20

    /// The entries through the applied mark are committed; an unreadable mark (it is not
    /// synced, so a crash of the machine can damage it) only means less is applied at start.
    static func loadAppliedMark(of log: PartitionLog, logger: Logger) -> LogIndex {
        do {
            return try log.loadAppliedMark()
        } catch {
            logger.warning("applied mark unreadable; the partition's state is rebuilt from what its hard state says is committed",
                           metadata: ["error": "\(error)"])
            return .zero
        }
    }
}
