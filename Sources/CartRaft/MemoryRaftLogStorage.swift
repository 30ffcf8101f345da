import CartTypes

/// A `RaftLogStorage` kept in memory, with the write operations a caller performs while
/// following the Ready contract. Used by tests and the simulator; the node uses the disk
/// implementation from CartStorage.
public final class MemoryRaftLogStorage: RaftLogStorage {
    public private(set) var hardState: HardState
    public private(set) var currentSnapshot: Snapshot
    /// `log[0]` is a placeholder carrying the snapshot's index and term, so that
    /// `term(at: firstIndex - 1)` needs no special case (as etcd's MemoryStorage).
    private var log: [Entry]

    public init(configuration: Configuration) {
        hardState = .empty
        currentSnapshot = Snapshot(
            metadata: SnapshotMetadata(index: .zero, term: .zero, configuration: configuration),
            data: [])
        log = [Entry(term: .zero, index: .zero, data: [])]
    }

    /// A copy sharing nothing with `self`, for simulating what survives a crash.
    public func copy() -> MemoryRaftLogStorage {
        let other = MemoryRaftLogStorage(configuration: currentSnapshot.metadata.configuration)
        other.hardState = hardState
        other.currentSnapshot = currentSnapshot
        other.log = log
        return other
    }

    private var offset: LogIndex { log[0].index }

    // MARK: RaftLogStorage

    public func initialState() throws -> RaftInitialState {
        RaftInitialState(hardState: hardState, configuration: currentSnapshot.metadata.configuration)
    }

    public func entries(_ range: Range<LogIndex>, bytesMax: Int) throws -> [Entry] {
        guard range.lowerBound > offset else { throw RaftStorageError.compacted }
        guard range.upperBound <= lastIndexValue.next else { throw RaftStorageError.unavailable }
        var result: [Entry] = []
        var bytes = 0
        for index in range {
            let entry = log[Int(offset.distance(to: index))]
            bytes += entry.sizeBytes
            if !result.isEmpty && bytes > bytesMax { break }
            result.append(entry)
        }
        return result
    }

    public func term(at index: LogIndex) throws -> Term {
        guard index >= offset else { throw RaftStorageError.compacted }
        guard index <= lastIndexValue else { throw RaftStorageError.unavailable }
        return log[Int(offset.distance(to: index))].term
    }

    public func firstIndex() throws -> LogIndex { offset.next }
    public func lastIndex() throws -> LogIndex { lastIndexValue }
    public func snapshot() throws -> Snapshot { currentSnapshot }

    private var lastIndexValue: LogIndex { log[log.count - 1].index }

    // MARK: Writes (the caller's side of the Ready contract)

    public func setHardState(_ state: HardState) {
        hardState = state
    }

    /// Appends entries, replacing any existing suffix they conflict with. Entries already
    /// compacted are skipped.
    public func append(_ entries: [Entry]) {
        guard let first = entries.first else { return }
        precondition(first.index <= lastIndexValue.next,
                     "append leaves a gap: first \(first.index), last \(lastIndexValue)")
        let fresh = entries.drop { $0.index <= offset }
        guard let firstFresh = fresh.first else { return }
        log.removeSubrange(Int(offset.distance(to: firstFresh.index))...)
        log.append(contentsOf: fresh)
    }

    /// Replaces the whole log with `snapshot` (a follower installing a leader's snapshot).
    public func applySnapshot(_ snapshot: Snapshot) {
        guard snapshot.metadata.index > currentSnapshot.metadata.index else { return }
        currentSnapshot = snapshot
        log = [Entry(term: snapshot.metadata.term, index: snapshot.metadata.index, data: [])]
    }

    /// Records a snapshot the state machine took at `index` (≤ last applied) and drops the
    /// entries it covers. Returns false if a newer snapshot already exists.
    @discardableResult
    public func compact(through index: LogIndex, data: [UInt8], configuration: Configuration) -> Bool {
        guard index > offset else { return false }
        precondition(index <= lastIndexValue, "cannot compact beyond the last index")
        precondition(index <= hardState.commit, "cannot compact uncommitted entries")
        let term = log[Int(offset.distance(to: index))].term
        currentSnapshot = Snapshot(
            metadata: SnapshotMetadata(index: index, term: term, configuration: configuration),
            data: data)
        log.removeSubrange(0..<Int(offset.distance(to: index)))
        log[0] = Entry(term: term, index: index, data: [])
        return true
    }
}
