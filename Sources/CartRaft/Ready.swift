import CartTypes

/// Everything a node asks its caller to do, in the order the contract on `RaftNode` gives:
/// persist, send, apply, then `advance`.
public struct Ready: Sendable {
    /// Set when leader or role changed (for routing); never persisted.
    public var softState: SoftState?
    /// Set when term, vote or commit changed; persist before sending.
    public var hardState: HardState?
    /// Answers to ReadIndex requests made on this node.
    public var readStates: [ReadState]
    /// New log entries to persist before sending (replacing any overlapping stored suffix).
    public var entries: [Entry]
    /// A snapshot from the leader to persist and then install in the state machine.
    public var snapshot: Snapshot?
    /// Entries now committed, to apply in order.
    public var committedEntries: [Entry]
    /// Messages to send once the above is persisted.
    public var messages: [Message]
    /// Messages that may be sent at once, before the above is persisted: those
    /// `RaftNode.maySendBeforeDurable(_:)` allows (with `leaderSendsBeforeDurable`, the
    /// leader's appends above all). In order among themselves.
    public var messagesBeforeDurable: [Message] = []

    /// Whether the writes must be durable (fsync) before sending: always true when a vote,
    /// term or entry changed. Commit-only changes may be written lazily.
    public var mustSync: Bool {
        snapshot != nil || !entries.isEmpty
            || (hardState != nil && hardStateChangedVoteOrTerm)
    }

    var hardStateChangedVoteOrTerm = false
}

extension RaftNode {
    /// Whether there is anything for the caller to do.
    public var hasReady: Bool {
        if readyOutstanding { return false }
        return softState != previousSoftState
            || hardState != previousHardState
            || !outbox.isEmpty
            || appendsOwed
            || !readStates.isEmpty
            || !log.unstable.entries.isEmpty
            || log.hasPendingSnapshot
            || log.hasNextCommittedEntries
    }

    /// Takes the pending work. Follow the contract on `RaftNode`, then call `advance`.
    public func ready() -> Ready {
        precondition(!readyOutstanding, "ready() called again before advance()")
        readyOutstanding = true
        sendOwedAppends()
        let early = takeMessagesSendableBeforeDurable()
        let soft = softState
        let hard = hardState
        var ready = Ready(
            softState: soft != previousSoftState ? soft : nil,
            hardState: hard != previousHardState ? hard : nil,
            readStates: readStates,
            entries: log.unstable.entries,
            snapshot: log.unstable.snapshot,
            committedEntries: log.nextCommittedEntries(bytesMax: options.applyBytesMax),
            messages: outbox)
        ready.messagesBeforeDurable = early
        ready.hardStateChangedVoteOrTerm = hard.term != previousHardState.term
            || hard.vote != previousHardState.vote
        outbox.removeAll()
        readStates.removeAll()
        previousSoftState = soft
        if let hardState = ready.hardState { previousHardState = hardState }
        return ready
    }

    /// Whether `message` may leave before the writes of the Ready it belongs to are durable:
    /// the kinds `MessageKind.maySendBeforeDurable` names and, with
    /// `leaderSendsBeforeDurable`, the leader's appends and commit notices. Those are safe
    /// because such a leader counts itself only for entries it reports durable; a crash that
    /// loses its unsynced entries loses nothing a majority acknowledged without it.
    public func maySendBeforeDurable(_ message: Message) -> Bool {
        if message.kind.maySendBeforeDurable { return true }
        return options.leaderSendsBeforeDurable && (message.kind == .append || message.kind == .commitNotice)
    }

    /// Takes the messages waiting to be sent that need no durable write first
    /// (`maySendBeforeDurable(_:)`), in order, leaving the rest for the next Ready.
    /// May be called at any time, also while a Ready is outstanding or its writes are not
    /// yet durable. A caller whose disk is slow sends these at once: heartbeats and their
    /// answers then keep flowing through a long `fdatasync`, and a leader with a healthy
    /// network is not deposed (nor does it step down) only because a disk stalled for more
    /// than an election timeout.
    public func takeMessagesSendableBeforeDurable() -> [Message] {
        guard outbox.contains(where: maySendBeforeDurable) else { return [] }
        var early: [Message] = []
        var later: [Message] = []
        for message in outbox {
            if maySendBeforeDurable(message) { early.append(message) } else { later.append(message) }
        }
        outbox = later
        return early
    }

    /// The caller has persisted, sent and applied everything in `ready`.
    public func advance(_ ready: Ready) {
        precondition(readyOutstanding, "advance() without a ready()")
        readyOutstanding = false
        if let snapshot = ready.snapshot {
            log.stableSnapshotTo(index: snapshot.metadata.index)
            log.appliedTo(snapshot.metadata.index)
        }
        if let last = ready.entries.last {
            log.stableTo(index: last.index, term: last.term)
        }
        if let last = ready.committedEntries.last {
            log.appliedTo(last.index)
            if role == .leader {
                // Committed entries no longer count against `uncommittedBytesMax`. Entries
                // of an earlier term may be subtracted too; the floor at zero covers that.
                let bytes = ready.committedEntries.reduce(0) { $0 + $1.data.count }
                uncommittedBytes = max(0, uncommittedBytes - bytes)
            }
        }
    }
}
