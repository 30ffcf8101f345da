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
            progress[node]?.recentActive = false
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
        _ = progress[id]?.maybeUpdate(last)
        _ = maybeCommit()
        return true
    }

    /// Commits the highest index stored on a majority, if it is from our term (§5.4.2).
    func maybeCommit() -> Bool {
        let candidate = configuration.committedIndex { progress[$0]?.match ?? .zero }
        let before = log.committed
        guard log.maybeCommit(index: candidate, term: term) else { return false }
        let newlyCommitted = (try? log.entries(before.next..<log.committed.next, bytesMax: .max)) ?? []
        uncommittedBytes = max(0, uncommittedBytes - newlyCommitted.reduce(0) { $0 + $1.data.count })
        releaseReadsAwaitingFirstCommit()
        return true
    }

    func handleAppendResponse(_ message: Message) {
        guard var peer = progress[message.from] else { return }
        peer.recentActive = true
        if message.reject {
            var hint = message.rejectHint
            if message.logTerm > .zero {
                hint = log.findConflictByTerm(index: message.rejectHint, term: message.logTerm).index
            }
            if peer.maybeDecrease(rejected: message.index, hint: hint) {
                if peer.state == .replicate { peer.becomeProbe() }
                progress[message.from] = peer
                sendAppend(to: message.from)
            } else {
                progress[message.from] = peer
            }
            return
        }
        let wasPaused = peer.isPaused
        if peer.maybeUpdate(message.index) {
            switch peer.state {
            case .probe:
                peer.becomeReplicate()
            case .snapshot(let pendingIndex) where peer.match >= pendingIndex:
                peer.becomeProbe()
                peer.becomeReplicate()
            case .replicate:
                peer.inflights.freeUpTo(message.index)
            default:
                break
            }
            progress[message.from] = peer
            if maybeCommit() {
                broadcastAppend()
            } else if wasPaused {
                sendAppend(to: message.from)
            }
            // Fill the pipeline window.
            while sendAppend(to: message.from, sendIfEmpty: false) {}
            if message.from == transferee && progress[message.from]?.match == log.lastIndex {
                sendTimeoutNow(to: message.from)
            }
        } else {
            progress[message.from] = peer
        }
    }

    func handleHeartbeatResponse(_ message: Message) {
        guard var peer = progress[message.from] else { return }
        peer.recentActive = true
        peer.probeSent = false
        if peer.state == .replicate && peer.inflights.isFull {
            // A heartbeat answer proves the follower is alive; let one more append out in
            // case the acknowledgement that would have freed the window was lost.
            peer.inflights.freeFirst()
        }
        progress[message.from] = peer
        if peer.match < log.lastIndex {
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
        guard var peer = progress[node], !peer.isPaused else { return false }
        let previousIndex = peer.next.previous
        let upper = min(log.lastIndex.next,
                        peer.next.advanced(by: Int64(options.entriesPerAppendMax)))
        guard let previousTerm = log.term(at: previousIndex),
              let entries = try? log.entries(peer.next..<upper, bytesMax: options.appendBytesMax)
        else {
            return sendSnapshot(to: node)
        }
        if entries.isEmpty && !sendIfEmpty { return false }
        var append = Message(kind: .append, from: id, to: node, term: term)
        append.index = previousIndex
        append.logTerm = previousTerm
        append.entries = entries
        append.commit = log.committed
        peer.sentEntries(count: entries.count, lastIndex: entries.last?.index ?? previousIndex)
        progress[node] = peer
        send(append)
        return true
    }

    /// InstallSnapshot (§7) for a follower that needs compacted entries.
    private func sendSnapshot(to node: NodeID) -> Bool {
        guard var peer = progress[node], peer.recentActive else { return false }
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
        peer.becomeSnapshot(pendingIndex: snapshot.metadata.index)
        progress[node] = peer
        send(message)
        return true
    }

    func send(_ message: Message) {
        outbox.append(message)
    }
}
