import CartRaft
import CartTypes

/// The Ready contract as the simulated server runs it, with the checks at each step.
extension Simulation {
    func processReadies(_ position: Int) throws(SafetyChecker.Violation) {
        if options.asyncWritesMax > 0 { return try processReadiesWritingAsynchronously(position) }
        while let raft = nodes[position].raft {
            // 0. What needs no write leaves first, as the node sends it: the checks below
            //    must hold even if the write that follows is torn.
            send(raft.takeMessagesSendableBeforeDurable(), from: raft)
            guard raft.hasReady else { return }
            let ready = raft.ready()
            // What may leave before the write leaves before it: a torn write that follows
            // may lose entries a leader has already sent.
            send(ready.messagesBeforeDurable, from: raft)
            // 1. Persist (a torn write crashes the node before it sends anything else).
            guard nodes[position].persist(ready, random: &random) else { return crashDuringWrite(position, raft) }
            reportPersisted(ready, on: raft)
            try checkWritten(ready, on: raft)
            // 2. Send.
            send(ready.messages, from: raft)
            // 3. Apply.
            try apply(ready, on: position)
            // 4. Advance.
            raft.advance(ready)
            nodes[position].compactIfDue(afterEntries: options.compactAfterEntries)
        }
    }

    /// The Ready loop as the node runs it: write, advance at once, and send and apply each
    /// Ready only once its sync completed (in order, a few ticks later), with at most
    /// `asyncWritesMax` Readies unsynced. Heartbeats and ReadIndex messages leave at once, and
    /// with `leaderSendsBeforeDurable` so do the leader's appends.
    private func processReadiesWritingAsynchronously(_ position: Int) throws(SafetyChecker.Violation) {
        while let raft = nodes[position].raft {
            try finishSyncedReadies(position)
            send(raft.takeMessagesSendableBeforeDurable(), from: raft)
            guard raft.hasReady, nodes[position].unsynced.count < options.asyncWritesMax else { return }
            let ready = raft.ready()
            send(ready.messagesBeforeDurable, from: raft)
            if nodes[position].tornWriteArmed && SimNode.writesAnything(ready) { return crashDuringWrite(position, raft) }
            let delay = options.syncDelayTicksMax > 0 ? Int(random.next() % UInt64(options.syncDelayTicksMax + 1)) : 0
            nodes[position].write(ready, dueAt: now + delay)
            if options.storageDefect == .reportsPersistedBeforeSync { reportPersisted(ready, on: raft) }
            // The node takes a confirmed read index at once (it answers once it has applied
            // that far), so the index is checked now, not after the sync.
            for state in ready.readStates { try checkRead(state, on: raft.id) }
            if options.storageDefect == .acknowledgesBeforeSync {
                send(ready.messages.filter { $0.kind == .appendResponse }, from: raft)
            }
            try checkWritten(ready, on: raft)
            raft.advance(ready)
        }
    }

    /// The entries of `ready` are durable (`RaftNode.persisted`; ignored unless the node
    /// leads with `leaderSendsBeforeDurable`).
    private func reportPersisted(_ ready: Ready, on raft: RaftNode) {
        if let last = ready.entries.last { raft.persisted(through: last.index, term: last.term) }
    }

    private func crashDuringWrite(_ position: Int, _ raft: RaftNode) {
        note("\(raft.id) crashed during a write")
        report.crashes += 1
        nodes[position].crash(random: &random)
    }

    /// Log matching for what `ready` wrote, and the checks on a node that just became leader.
    private func checkWritten(_ ready: Ready, on raft: RaftNode) throws(SafetyChecker.Violation) {
        try checker.checkPersisted(ready.entries, on: raft)
        if let soft = ready.softState, soft.role == .leader {
            note("\(raft.id) leads \(raft.currentTerm)")
            try checker.observeLeader(raft.id, term: raft.currentTerm)
            try checker.checkLeaderCompleteness(raft)
        }
    }

    /// Sends and applies the Readies whose syncs completed by now, oldest first.
    func finishSyncedReadies(_ position: Int) throws(SafetyChecker.Violation) {
        while let raft = nodes[position].raft, let ready = nodes[position].takeSynced(now: now) {
            if options.storageDefect != .reportsPersistedBeforeSync { reportPersisted(ready, on: raft) }
            send(options.storageDefect == .acknowledgesBeforeSync ? ready.messages.filter { $0.kind != .appendResponse }
                     : ready.messages, from: raft)
            try apply(ready, on: position)
            nodes[position].compactIfDue(afterEntries: options.compactAfterEntries)
        }
    }

    private func send(_ messages: [Message], from raft: RaftNode) {
        for message in messages {
            let queued = network.send(message, now: now, random: &random)
            if !queued && message.kind == .snapshot {
                // A real transport learns that a snapshot stream failed and says so
                // (contract step 3); otherwise the leader would wait for it forever.
                raft.reportSnapshot(to: message.to, succeeded: false)
            }
        }
    }

    private func apply(_ ready: Ready, on position: Int) throws(SafetyChecker.Violation) {
        let id = nodes[position].id
        if let snapshot = ready.snapshot {
            nodes[position].stateMachine = SimStateMachine(snapshotData: snapshot.data)
            try checker.checkSnapshot(snapshot.metadata, digest: nodes[position].stateMachine.digest, on: id)
            report.snapshotsInstalled += 1
            note("\(id) installed snapshot at \(snapshot.metadata.index)")
        }
        for entry in ready.committedEntries {
            do {
                try nodes[position].stateMachine.apply(entry)
            } catch {
                throw SafetyChecker.Violation(reason: "exactly once / in order on \(id): \(error)")
            }
            try checker.checkApplied(entry, digest: nodes[position].stateMachine.digest, on: id)
            try checkProposal(entry, appliedOn: id)
        }
        for state in ready.readStates {
            try checkRead(state, on: id)
        }
    }

    /// A proposal is acknowledged when the node that accepted it applies it where it said
    /// it would (a client would get its answer then). Entries nobody proposed are a bug.
    private func checkProposal(_ entry: Entry, appliedOn node: NodeID) throws(SafetyChecker.Violation) {
        guard let id = SimPayload.proposalID(entry.data) else { return }
        guard let proposal = proposals[id] else {
            throw SafetyChecker.Violation(reason: "\(node) applied \(entry.index) carrying unknown proposal \(id)")
        }
        if proposal.node == node && proposal.index == entry.index && proposal.term == entry.term {
            acknowledged.insert(id)
        }
    }

    /// ReadIndex (thesis §6.4): the answer must cover every entry committed before the
    /// request was made, or the read could miss an acknowledged write.
    func checkRead(_ state: ReadState, on node: NodeID) throws(SafetyChecker.Violation) {
        guard let committedAtRequest = reads.removeValue(forKey: state.context) else { return }
        guard state.index >= committedAtRequest else {
            throw SafetyChecker.Violation(reason: "linearizable read: \(node) got read index \(state.index) "
                + "but \(committedAtRequest) was committed before the request")
        }
        report.readsAnswered += 1
    }
}
