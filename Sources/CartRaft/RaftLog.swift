import CartTypes

/// The log as the core sees it: the stable prefix in `storage` followed by `unstable`,
/// plus the commit and apply positions (§5.3).
struct RaftLog {
    let storage: any RaftLogStorage
    var unstable: Unstable
    /// Highest index known to be stored on a majority.
    private(set) var committed: LogIndex
    /// Highest index handed to the state machine (through `Ready.committedEntries` or an
    /// installed snapshot) and acknowledged by `advance`.
    private(set) var applied: LogIndex

    init(storage: any RaftLogStorage) {
        self.storage = storage
        let first = Self.fatalIfFailed { try storage.firstIndex() }
        let last = Self.fatalIfFailed { try storage.lastIndex() }
        unstable = Unstable(offset: last.next)
        committed = first.previous
        applied = first.previous
    }

    /// Storage failures other than compaction are IO errors. The node stops rather than
    /// carry on with a log it cannot read: a crashed replica is safe, a confused one is not.
    static func fatalIfFailed<T>(_ body: () throws -> T) -> T {
        do { return try body() } catch { preconditionFailure("raft log storage failed: \(error)") }
    }

    var firstIndex: LogIndex {
        unstable.firstIndex ?? Self.fatalIfFailed { try storage.firstIndex() }
    }

    var lastIndex: LogIndex {
        unstable.lastIndex ?? Self.fatalIfFailed { try storage.lastIndex() }
    }

    var lastTerm: Term { term(at: lastIndex) ?? .zero }

    /// The term of the entry at `index`, or nil if it is compacted away or beyond the end.
    func term(at index: LogIndex) -> Term? {
        let dummy = firstIndex.previous
        guard index >= dummy, index <= lastIndex else { return nil }
        if let term = unstable.term(at: index) { return term }
        do {
            return try storage.term(at: index)
        } catch RaftStorageError.compacted, RaftStorageError.unavailable {
            return nil
        } catch {
            preconditionFailure("raft log storage failed: \(error)")
        }
    }

    func matchTerm(_ index: LogIndex, _ term: Term) -> Bool {
        self.term(at: index) == term
    }

    /// §5.4.1: a candidate's log is at least as up-to-date as ours.
    func isUpToDate(lastIndex candidateIndex: LogIndex, lastTerm candidateTerm: Term) -> Bool {
        candidateTerm > lastTerm || (candidateTerm == lastTerm && candidateIndex >= lastIndex)
    }

    /// The follower side of AppendEntries (§5.3): if our entry at `index` has `logTerm`,
    /// append `entries` (dropping any conflicting suffix), commit up to `leaderCommit`, and
    /// return the index of the last new entry; otherwise nil.
    mutating func maybeAppend(index: LogIndex, logTerm: Term, leaderCommit: LogIndex,
                              entries: [Entry]) -> LogIndex? {
        guard matchTerm(index, logTerm) else { return nil }
        let lastNew = index.advanced(by: Int64(entries.count))
        if let conflict = findConflict(entries) {
            precondition(conflict > committed, "entry \(conflict) conflicts with committed \(committed)")
            append(Array(entries[Int(index.next.distance(to: conflict))...]))
        }
        commit(to: min(leaderCommit, lastNew))
        return lastNew
    }

    /// The first of `entries` that is missing or has a different term in our log.
    func findConflict(_ entries: [Entry]) -> LogIndex? {
        entries.first { !matchTerm($0.index, $0.term) }?.index
    }

    /// Fast backtracking (end of §5.3): the largest index ≤ `index` whose term is ≤ `term`,
    /// with that term. A leader probing with (index, term) can skip straight past entries
    /// that cannot match.
    func findConflictByTerm(index: LogIndex, term: Term) -> (index: LogIndex, term: Term) {
        var candidate = min(index, lastIndex)
        while true {
            guard let ourTerm = self.term(at: candidate) else { return (candidate, .zero) }
            if ourTerm <= term || candidate == .zero { return (candidate, ourTerm) }
            candidate = candidate.previous
        }
    }

    @discardableResult
    mutating func append(_ entries: [Entry]) -> LogIndex {
        guard let first = entries.first else { return lastIndex }
        precondition(first.index > committed, "appending \(first.index) would overwrite committed \(committed)")
        unstable.truncateAndAppend(entries)
        return lastIndex
    }

    mutating func commit(to index: LogIndex) {
        guard index > committed else { return }
        precondition(index <= lastIndex, "commit \(index) beyond last index \(lastIndex)")
        committed = index
    }

    /// Leader commit rule (§5.4.2): only an entry of the current term is committed by
    /// counting replicas; earlier entries commit with it.
    mutating func maybeCommit(index: LogIndex, term: Term) -> Bool {
        guard index > committed, self.term(at: index) == term else { return false }
        commit(to: index)
        return true
    }

    mutating func appliedTo(_ index: LogIndex) {
        guard index > applied else { return }
        precondition(index <= committed, "applied \(index) beyond committed \(committed)")
        applied = index
    }

    /// Entries in `range`, at most `bytesMax` bytes (but at least one), reading the stable
    /// part from storage and the rest from `unstable`. Throws `.compacted`.
    func entries(_ range: Range<LogIndex>, bytesMax: Int) throws -> [Entry] {
        guard !range.isEmpty else { return [] }
        guard range.lowerBound >= firstIndex else { throw RaftStorageError.compacted }
        precondition(range.upperBound <= lastIndex.next, "entries \(range) beyond last index \(lastIndex)")
        var result: [Entry] = []
        if range.lowerBound < unstable.offset {
            let upper = min(range.upperBound, unstable.offset)
            do {
                result = try storage.entries(range.lowerBound..<upper, bytesMax: bytesMax)
            } catch RaftStorageError.compacted {
                throw RaftStorageError.compacted
            } catch {
                preconditionFailure("raft log storage failed: \(error)")
            }
            if result.count < Int(range.lowerBound.distance(to: upper)) { return result }
        }
        let unstableLower = max(range.lowerBound, unstable.offset)
        guard unstableLower < range.upperBound else { return result }
        var bytes = result.reduce(0) { $0 + $1.sizeBytes }
        result.reserveCapacity(result.count + Int(unstableLower.distance(to: range.upperBound)))
        for entry in unstable.slice(unstableLower..<range.upperBound) {
            bytes += entry.sizeBytes
            if !result.isEmpty && bytes > bytesMax { break }
            result.append(entry)
        }
        return result
    }

    var hasPendingSnapshot: Bool { unstable.snapshot != nil }

    /// Committed entries not yet handed to the state machine (none while a snapshot is
    /// waiting to be installed: it must be applied first).
    func nextCommittedEntries(bytesMax: Int) -> [Entry] {
        guard !hasPendingSnapshot else { return [] }
        let lower = max(applied.next, firstIndex)
        guard committed >= lower else { return [] }
        do {
            return try entries(lower..<committed.next, bytesMax: bytesMax)
        } catch {
            preconditionFailure("committed entries \(lower)...\(committed) unreadable: \(error)")
        }
    }

    var hasNextCommittedEntries: Bool {
        !hasPendingSnapshot && committed >= max(applied.next, firstIndex)
    }

    /// A follower installing a leader's snapshot (§7): the log is replaced wholesale.
    mutating func restore(_ snapshot: Snapshot) {
        committed = snapshot.metadata.index
        unstable.restore(snapshot)
    }

    mutating func stableTo(index: LogIndex, term: Term) {
        unstable.stableTo(index: index, term: term)
    }

    mutating func stableSnapshotTo(index: LogIndex) {
        unstable.stableSnapshotTo(index: index)
    }

    mutating func restoreCommitted(_ index: LogIndex) {
        commit(to: index)
    }

    mutating func setApplied(_ index: LogIndex) {
        precondition(index <= committed, "applied index \(index) beyond committed \(committed)")
        applied = max(applied, index)
    }
}
