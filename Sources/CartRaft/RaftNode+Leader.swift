import CartTypes

/// The leader's side of replication (§5.3): batching, pipelining, backtracking, commit.
extension RaftNode {
    func tickLeader() {
        heartbeatElapsedTicks += 1
        electionElapsedTicks += 1
        if electionElapsedTicks >= options.electionTimeoutTicks {
            electionElapsedTicks = 0
            if options.checkQuorum && !checkQuorumActive() {
                // Check-quorum (thesis §6.2): we have not heard from a majority for a
                // whole election timeout, so a new leader may exist; stop serving.
                becomeFollower(term: term, leader: .none)
                return
            }
            // A transfer that did not finish within an election timeout is abandoned.
            transferee = .none
        }
        if heartbeatElapsedTicks >= options.heartbeatIntervalTicks {
            heartbeatElapsedTicks = 0
            // Carry the newest pending read, so a round whose messages were lost is
            // retried; acknowledging it releases every older read too.
            broadcastHeartbeat(context: readOnly.newestContext ?? [])
        }
    }

    /// Whether a majority was heard from since the last round; starts a new round.
    private func checkQuorumActive() -> Bool {
        let active = configuration.hasQuorum { node in node == id || progress[node]?.recentActive == true }
        for node in configuration.voters where node != id {
            progress.update(node) { $0.recentActive = false }
        }
        return active
    }

    func stepLeader(_ message: Message) {
        switch message.kind {
        case .appendResponse: handleAppendResponse(message)
        case .heartbeatResponse: handleHeartbeatResponse(message)
        case .readIndex: handleReadIndexRequest(context: message.context, requester: message.from)
        default: break
        }
    }

    /// Appends entries to the leader's own log. Returns false (appending nothing) if that
    /// would exceed `uncommittedBytesMax`; the first entry of a term is always accepted.
    func appendAsLeader(_ entries: [Entry]) -> Bool {
        let bytes = entries.reduce(0) { $0 + $1.data.count }
        if uncommittedBytes > 0 && uncommittedBytes + bytes > options.uncommittedBytesMax {
            return false
        }
        uncommittedBytes += bytes
        let last = log.append(entries)
        if !options.leaderSendsBeforeDurable {
            // Counted at once: the caller makes them durable before it sends anything.
            progress.update(id) { _ = $0.maybeUpdate(last) }
            _ = maybeCommit()
        }
        return true
    }

    /// With `leaderSendsBeforeDurable`: the entries through `index` are durable, the one at
    /// `index` written in `entryTerm`. A leader counts them in its commit quorum now. It
    /// ignores a report about an entry its log no longer holds (a report from before a
    /// truncation), and every report before it leads: its match starts from the first
    /// report of its leadership, which always comes, since its no-op entry needs one.
    ///
    /// Call it once the entries and everything before them in the log are durable, in the
    /// order the Readies were taken; it may be called while a Ready is outstanding.
    public func persisted(through index: LogIndex, term entryTerm: Term) {
        guard options.leaderSendsBeforeDurable, role == .leader, log.term(at: index) == entryTerm else { return }
        guard progress.update(id, { $0.maybeUpdate(index) }) == true else { return }
        // The followers learn the new commit index with the next Ready's appends.
        if maybeCommit() { appendsOwed = true }
    }

    /// Commits the highest index stored on a majority, if it is from our term (§5.4.2).
    func maybeCommit() -> Bool {
        let candidate = configuration.committedIndex { progress[$0]?.match ?? .zero }
        guard log.maybeCommit(index: candidate, term: term) else { return false }
        releaseReadsAwaitingFirstCommit()
        return true
    }

    func handleAppendResponse(_ message: Message) {
        let from = message.from
        guard progress[from] != nil else { return }
        progress.update(from) { $0.recentActive = true }
        if message.reject {
            var hint = message.rejectHint
            if message.logTerm > .zero {
                hint = log.findConflictByTerm(index: message.rejectHint, term: message.logTerm).index
            }
            if progress.update(from, { $0.handleRejection(rejected: message.index, hint: hint) }) == true {
                sendAppend(to: from)
            }
            return
        }
        let wasPaused = progress[from]!.isPaused
        guard progress.update(from, { $0.handleAcknowledgement(message.index) }) == true else { return }
        if maybeCommit() {
            appendsOwed = true
        } else if wasPaused {
            sendAppend(to: from)
        }
        // Fill the pipeline window.
        while sendAppend(to: from, sendIfEmpty: false) {}
        if from == transferee && progress[from]?.match == log.lastIndex {
            sendTimeoutNow(to: from)
        }
    }

    func handleHeartbeatResponse(_ message: Message) {
        guard progress[message.from] != nil else { return }
        progress.update(message.from) { $0.handleHeartbeatResponse() }
        if progress[message.from]!.match < log.lastIndex {
            sendAppend(to: message.from)
        }
        if !message.context.isEmpty {
            handleReadIndexAcknowledgement(context: message.context, from: message.from)
        }
    }

    func broadcastAppend() {
        for node in configuration.voters where node != id {
            sendAppend(to: node)
        }
    }

    /// Sends what `appendsOwed` promised: to every follower its new entries (filling the
    /// pipeline window), or an empty append if it has not yet been told the commit index.
    func sendOwedAppends() {
        guard appendsOwed else { return }
        appendsOwed = false
        guard role == .leader else { return }
        for node in configuration.voters where node != id {
            let toldCommit = progress[node].map { $0.commitSent >= log.committed } ?? true
            if sendAppend(to: node, sendIfEmpty: false) {
                while sendAppend(to: node, sendIfEmpty: false) {}
            } else if !toldCommit && !sendCommitNotice(to: node) {
                sendAppend(to: node)
            }
        }
    }

    /// Tells a streaming follower the commit index with a `commitNotice`, which it does not
    /// answer. Returns false if `node` is not streaming (a probing follower needs the answer
    /// to an empty append to find where its log matches).
    private func sendCommitNotice(to node: NodeID) -> Bool {
        guard let follower = progress[node], follower.state == .replicate, !follower.isPaused,
              let previousTerm = log.term(at: follower.next.previous) else { return false }
        var notice = Message(kind: .commitNotice, from: id, to: node, term: term)
        notice.index = follower.next.previous
        notice.logTerm = previousTerm
        notice.commit = log.committed
        progress.update(node) { $0.commitSent = max($0.commitSent, notice.commit) }
        send(notice)
        return true
    }

    func broadcastHeartbeat(context: [UInt8]) {
        for node in configuration.voters where node != id {
            var heartbeat = Message(kind: .heartbeat, from: id, to: node, term: term)
            // Never tell a follower to commit past what it is known to hold.
            heartbeat.commit = min(progress[node]?.match ?? .zero, log.committed)
            heartbeat.context = context
            send(heartbeat)
        }
    }

    /// Sends the next batch of entries (at most `entriesPerAppendMax` and `appendBytesMax`)
    /// to `node`, or a snapshot if the entries it needs are compacted. Returns whether a
    /// message was sent.
    @discardableResult
    func sendAppend(to node: NodeID, sendIfEmpty: Bool = true) -> Bool {
        guard let isPaused = progress[node]?.isPaused, !isPaused else { return false }
        let next = progress[node]!.next
        let previousIndex = next.previous
        let upper = min(log.lastIndex.next, next.advanced(by: Int64(options.entriesPerAppendMax)))
        guard let previousTerm = log.term(at: previousIndex),
              let entries = try? log.entries(next..<upper, bytesMax: options.appendBytesMax)
        else {
            return sendSnapshot(to: node)
        }
        if entries.isEmpty && !sendIfEmpty { return false }
        var append = Message(kind: .append, from: id, to: node, term: term)
        append.index = previousIndex
        append.logTerm = previousTerm
        append.entries = entries
        append.commit = log.committed
        progress.update(node) {
            $0.sentEntries(count: entries.count, lastIndex: entries.last?.index ?? previousIndex)
            $0.commitSent = max($0.commitSent, append.commit)
        }
        send(append)
        return true
    }

    /// InstallSnapshot (§7) for a follower that needs compacted entries.
    private func sendSnapshot(to node: NodeID) -> Bool {
        guard progress[node]?.recentActive == true else { return false }
        let snapshot: Snapshot
        do {
            snapshot = try log.storage.snapshot()
        } catch RaftStorageError.snapshotTemporarilyUnavailable {
            return false
        } catch {
            preconditionFailure("raft log storage failed: \(error)")
        }
        precondition(!snapshot.isEmpty, "entries are compacted but the storage has no snapshot")
        var message = Message(kind: .snapshot, from: id, to: node, term: term)
        message.snapshot = snapshot
        progress.update(node) { $0.becomeSnapshot(pendingIndex: snapshot.metadata.index) }
        send(message)
        return true
    }

    func send(_ message: Message) {
        if outbox.isEmpty { outbox.reserveCapacity(8) }
        outbox.append(message)
    }
}
