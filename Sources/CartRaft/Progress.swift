import CartTypes

/// How the leader is currently feeding one follower (etcd's progress states).
enum ReplicationState: Hashable, Sendable {
    /// Unknown position: send one append at a time and wait for its answer.
    case probe
    /// Known position: stream appends optimistically, up to `inflightAppendsMax` in flight.
    case replicate
    /// A snapshot is on its way; send nothing until it is acknowledged or reported failed.
    case snapshot(pendingIndex: LogIndex)
}

/// The leader's view of one follower (§5.3 nextIndex/matchIndex, plus flow control).
struct Progress {
    var match: LogIndex = .zero
    var next: LogIndex
    var state: ReplicationState = .probe
    /// In probe state: an append is outstanding, so wait for its answer or a heartbeat.
    var probeSent = false
    /// Heard from since the last check-quorum round.
    var recentActive = false
    /// The highest commit index sent in an append (an owed append skips followers that
    /// already have it and get no new entries).
    var commitSent: LogIndex = .zero
    var inflights: Inflights

    init(next: LogIndex, inflightAppendsMax: Int) {
        self.next = next
        inflights = Inflights(capacity: inflightAppendsMax)
    }

    var isPaused: Bool {
        switch state {
        case .probe: probeSent
        case .replicate: inflights.isFull
        case .snapshot: true
        }
    }

    mutating func becomeProbe() {
        if case .snapshot(let pendingIndex) = state {
            next = max(match.next, pendingIndex.next)
        } else {
            next = match.next
        }
        state = .probe
        probeSent = false
        inflights.reset()
    }

    mutating func becomeReplicate() {
        state = .replicate
        next = match.next
        probeSent = false
        inflights.reset()
    }

    mutating func becomeSnapshot(pendingIndex: LogIndex) {
        state = .snapshot(pendingIndex: pendingIndex)
        probeSent = false
        inflights.reset()
    }

    /// The follower acknowledged entries through `index`. Returns whether it is news.
    mutating func maybeUpdate(_ index: LogIndex) -> Bool {
        var updated = false
        if match < index {
            match = index
            updated = true
            probeSent = false
        }
        next = max(next, index.next)
        return updated
    }

    /// The follower rejected an append after `rejected`; `hint` is where to retry from
    /// (already reduced by the conflict-term search). Returns false for stale rejections.
    mutating func maybeDecrease(rejected: LogIndex, hint: LogIndex) -> Bool {
        if state == .replicate {
            // In replicate state every rejection of an index above match is for an append
            // we sent optimistically; older ones are stale duplicates.
            guard rejected > match else { return false }
            next = match.next
            return true
        }
        guard next.previous == rejected else { return false }
        next = max(min(rejected, hint.next), match.next)
        probeSent = false
        return true
    }

    /// An accepted append or snapshot through `index`: advance, and move to streaming
    /// once the follower's position is known. Returns whether it was news.
    mutating func handleAcknowledgement(_ index: LogIndex) -> Bool {
        guard maybeUpdate(index) else { return false }
        switch state {
        case .probe:
            becomeReplicate()
        case .snapshot(let pendingIndex) where match >= pendingIndex:
            becomeProbe()
            becomeReplicate()
        case .replicate:
            inflights.freeUpTo(index)
        case .snapshot:
            break
        }
        return true
    }

    /// A rejected append: back off to `hint` and probe. Returns whether to send again.
    mutating func handleRejection(rejected: LogIndex, hint: LogIndex) -> Bool {
        guard maybeDecrease(rejected: rejected, hint: hint) else { return false }
        if state == .replicate { becomeProbe() }
        return true
    }

    mutating func handleHeartbeatResponse() {
        recentActive = true
        probeSent = false
        if state == .replicate && inflights.isFull {
            // The follower is alive; let one more append out in case the acknowledgement
            // that would have freed the window was lost.
            inflights.freeFirst()
        }
    }

    /// Bookkeeping after sending `count` entries ending at `lastIndex`.
    mutating func sentEntries(count: Int, lastIndex: LogIndex) {
        switch state {
        case .replicate:
            if count > 0 {
                next = lastIndex.next
                inflights.add(lastIndex)
            }
        case .probe:
            probeSent = true
        case .snapshot:
            preconditionFailure("sending entries to a follower in snapshot state")
        }
    }
}

/// A bounded FIFO of the last index of each append in flight to one follower.
struct Inflights {
    let capacity: Int
    private var lastIndexes: [LogIndex] = []
    private var head = 0

    init(capacity: Int) {
        self.capacity = capacity
        lastIndexes.reserveCapacity(capacity)
    }

    var count: Int { lastIndexes.count - head }
    var isFull: Bool { count >= capacity }

    mutating func add(_ index: LogIndex) {
        precondition(!isFull, "inflight window overflow")
        lastIndexes.append(index)
    }

    /// Frees every append whose entries end at or before `index`.
    mutating func freeUpTo(_ index: LogIndex) {
        while head < lastIndexes.count && lastIndexes[head] <= index { head += 1 }
        compactIfDrained()
    }

    mutating func freeFirst() {
        if head < lastIndexes.count { head += 1 }
        compactIfDrained()
    }

    mutating func reset() {
        lastIndexes.removeAll(keepingCapacity: true)
        head = 0
    }

    private mutating func compactIfDrained() {
        if head == lastIndexes.count {
            reset()
        } else if head >= capacity {
            lastIndexes.removeFirst(head)
            head = 0
        }
    }
}
