import CartTypes

/// Entries (and possibly a snapshot) the core has accepted but the caller has not yet
/// persisted. `offset` is the index of `entries[0]`.
struct Unstable {
    var snapshot: Snapshot?
    var entries: [Entry] = []
    var offset: LogIndex

    var firstIndex: LogIndex? {
        snapshot.map { $0.metadata.index.next }
    }

    var lastIndex: LogIndex? {
        if let last = entries.last { return last.index }
        return snapshot?.metadata.index
    }

    func term(at index: LogIndex) -> Term? {
        if index < offset {
            if let snapshot, snapshot.metadata.index == index { return snapshot.metadata.term }
            return nil
        }
        guard let last = lastIndex, index <= last, !entries.isEmpty else { return nil }
        return entries[Int(offset.distance(to: index))].term
    }

    /// The caller has persisted entries through `index` (written in term `term`).
    mutating func stableTo(index: LogIndex, term: Term) {
        guard index >= offset, self.term(at: index) == term else { return }
        entries.removeFirst(Int(offset.distance(to: index)) + 1)
        offset = index.next
    }

    mutating func stableSnapshotTo(index: LogIndex) {
        if snapshot?.metadata.index == index { snapshot = nil }
    }

    mutating func restore(_ snapshot: Snapshot) {
        offset = snapshot.metadata.index.next
        entries = []
        self.snapshot = snapshot
    }

    /// Adds `newEntries`, first discarding any unstable suffix they replace.
    mutating func truncateAndAppend(_ newEntries: [Entry]) {
        guard let first = newEntries.first?.index else { return }
        if first == offset.advanced(by: Int64(entries.count)) {
            entries.append(contentsOf: newEntries)
        } else if first <= offset {
            // Replaces everything unstable (and what the storage holds from `first` on:
            // the caller's append truncates it when persisting).
            offset = first
            entries = newEntries
        } else {
            entries.removeSubrange(Int(offset.distance(to: first))...)
            entries.append(contentsOf: newEntries)
        }
    }

    func slice(_ range: Range<LogIndex>) -> ArraySlice<Entry> {
        precondition(range.lowerBound >= offset && range.upperBound <= offset.advanced(by: Int64(entries.count)),
                     "unstable slice \(range) out of bounds")
        return entries[Int(offset.distance(to: range.lowerBound))..<Int(offset.distance(to: range.upperBound))]
    }
}
