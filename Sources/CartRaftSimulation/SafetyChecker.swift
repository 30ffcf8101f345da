import CartRaft
import CartTypes

/// Raft's safety properties (§5.4, Figure 3), checked against everything every node does.
/// Each check throws a human-readable reason; the simulation adds seed and tick.
struct SafetyChecker {
    struct Violation: Error {
        let reason: String
    }

    /// Election safety: the leader of each term.
    private var leaders: [Term: NodeID] = [:]
    /// Log matching: (index, term) → (data, term of the entry before). Carrying the
    /// previous term makes the check inductive: equal (index, term) pairs must agree on
    /// the data and on their predecessor, hence on the whole prefix.
    private var persisted: [EntryKey: (data: [UInt8], previousTerm: Term?)] = [:]
    /// State machine safety: the entry applied at each index, and the digest after it.
    private(set) var committed: [LogIndex: Entry] = [:]
    private var digests: [LogIndex: UInt64] = [:]
    private(set) var committedIndexMax: LogIndex = .zero
    private(set) var elections = 0

    struct EntryKey: Hashable {
        let index: LogIndex
        let term: Term
    }

    /// At most one leader per term (§5.2).
    mutating func observeLeader(_ node: NodeID, term: Term) throws(Violation) {
        if let existing = leaders[term] {
            guard existing == node else {
                throw Violation(reason: "election safety: \(existing) and \(node) both lead \(term)")
            }
            return
        }
        leaders[term] = node
        elections += 1
    }

    /// Leader completeness (§5.4.1): a new leader holds every committed entry (or a
    /// snapshot covering it).
    func checkLeaderCompleteness(_ leader: RaftNode) throws(Violation) {
        guard leader.lastIndex >= committedIndexMax else {
            throw Violation(reason: "leader completeness: \(leader.id) leads \(leader.currentTerm) with last index "
                + "\(leader.lastIndex) below committed \(committedIndexMax)")
        }
        var index = committedIndexMax
        while index > .zero, let term = leader.term(at: index) {
            guard term == committed[index]?.term else {
                throw Violation(reason: "leader completeness: \(leader.id) has \(term) at \(index), committed "
                    + "\(committed[index].map { "\($0.term)" } ?? "?")")
            }
            index = index.previous
        }
    }

    /// Log matching (§5.3), for entries a node just persisted.
    mutating func checkPersisted(_ entries: [Entry], on node: RaftNode) throws(Violation) {
        for entry in entries {
            let key = EntryKey(index: entry.index, term: entry.term)
            let previousTerm = entry.index > LogIndex(1) ? node.term(at: entry.index.previous) : Term.zero
            if let seen = persisted[key] {
                guard seen.data == entry.data else {
                    throw Violation(reason: "log matching: two different entries at \(entry.index) in \(entry.term)")
                }
                if let seenTerm = seen.previousTerm, let previousTerm, seenTerm != previousTerm {
                    throw Violation(reason: "log matching: entry \(entry.index) \(entry.term) follows "
                        + "\(previousTerm) on \(node.id) but \(seenTerm) elsewhere")
                }
            } else {
                persisted[key] = (entry.data, previousTerm)
            }
        }
    }

    /// State machine safety (§5.4.3): no two nodes apply different entries at an index,
    /// and (via the digest) their states agree after it.
    mutating func checkApplied(_ entry: Entry, digest: UInt64, on node: NodeID) throws(Violation) {
        if let known = committed[entry.index] {
            guard known == entry, digests[entry.index] == digest else {
                throw Violation(reason: "state machine safety: \(node) applied \(entry.term) at \(entry.index), "
                    + "others applied \(known.term)")
            }
        } else {
            committed[entry.index] = entry
            digests[entry.index] = digest
            committedIndexMax = max(committedIndexMax, entry.index)
        }
    }

    /// A snapshot must describe the committed prefix exactly (§7).
    func checkSnapshot(_ metadata: SnapshotMetadata, digest: UInt64, on node: NodeID) throws(Violation) {
        guard let entry = committed[metadata.index], entry.term == metadata.term,
              digests[metadata.index] == digest else {
            throw Violation(reason: "snapshot safety: \(node) installed a snapshot at \(metadata.index) "
                + "\(metadata.term) that does not match the committed log")
        }
    }
}
