import CartTypes

/// The receiving side of replication: AppendEntries, heartbeats, InstallSnapshot.
extension RaftNode {
    /// AppendEntries (§5.3). On a mismatch, the rejection carries a hint so the leader can
    /// skip a whole conflicting term per round trip instead of one entry.
    func handleAppend(_ message: Message) {
        var response = Message(kind: .appendResponse, from: id, to: message.from, term: term)
        if message.index < log.committed {
            // Everything up to our commit index is settled; tell the leader where we are.
            response.index = log.committed
        } else if let lastNew = log.maybeAppend(index: message.index, logTerm: message.logTerm,
                                                leaderCommit: message.commit,
                                                entries: message.entries) {
            response.index = lastNew
        } else {
            let hint = log.findConflictByTerm(index: min(message.index, log.lastIndex),
                                              term: message.logTerm)
            response.index = message.index
            response.reject = true
            response.rejectHint = hint.index
            response.logTerm = hint.term
        }
        send(response)
    }

    /// An empty append that needs no answer: the same log-matching check, then the commit
    /// index it vouches for. A notice that does not match (an earlier append was lost) is
    /// dropped; the leader learns of the gap from the next append's or heartbeat's answer.
    func handleCommitNotice(_ message: Message) {
        guard message.index >= log.committed else { return }
        _ = log.maybeAppend(index: message.index, logTerm: message.logTerm, leaderCommit: message.commit, entries: [])
    }

    func handleHeartbeat(_ message: Message) {
        // The leader sends min(our match, its commit), so this never passes our log end;
        // the bound guards against a heartbeat that overtook a truncation.
        log.commit(to: min(message.commit, log.lastIndex))
        var response = Message(kind: .heartbeatResponse, from: id, to: message.from, term: term)
        response.context = message.context
        send(response)
    }

    /// InstallSnapshot (§7).
    func handleSnapshot(_ message: Message) {
        guard let snapshot = message.snapshot else { return }
        var response = Message(kind: .appendResponse, from: id, to: message.from, term: term)
        response.index = restore(snapshot) ? log.lastIndex : log.committed
        send(response)
    }

    /// Returns false if the snapshot brings nothing new.
    private func restore(_ snapshot: Snapshot) -> Bool {
        let metadata = snapshot.metadata
        guard metadata.index > log.committed else { return false }
        if log.matchTerm(metadata.index, metadata.term) {
            // We already hold the snapshot's last entry, so by log matching everything
            // before it too: just move the commit index (§7, "if existing log entry has
            // same index and term ... retain log entries following it").
            log.commit(to: metadata.index)
            return false
        }
        log.restore(snapshot)
        configuration = metadata.configuration
        progress = ProgressTracker(voters: configuration.voters) { _ in
            Progress(next: log.lastIndex.next, inflightAppendsMax: options.inflightAppendsMax)
        }
        return true
    }
}
