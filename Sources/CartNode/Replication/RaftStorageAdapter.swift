import CartRaft
import CartStorage
import CartTypes

/// CartRaft's read-only view of a partition's durable log, over CartStorage's
/// `PartitionLog`. Used only on the replica's event loop.
///
/// The latest snapshot's index is the log's floor: entries at or below it are reported as
/// compacted even if a crash left them in the files (snapshot saved, compaction not done
/// yet), so Raft never hands the state machine an entry the snapshot already contains.
///
/// Recently appended entries are kept in memory (`recentEntriesMax`) so that applying them
/// after commit, and sending them to a slow follower, rarely reads the files back.
final class RaftStorageAdapter: RaftLogStorage {
    static let recentEntriesMax = 8_192

    let log: PartitionLog
    let configuration: Configuration
    private(set) var snapshotMetadata: SnapshotMetadata
    private var snapshotData: [UInt8]
    /// The size of the latest snapshot's data (the state machine's size at its index).
    var snapshotBytes: Int { snapshotData.count }
    /// Entries `recentFirst ..< recentFirst + recent.count`, in order.
    private var recent: [Entry] = []
    private var recentFirst = LogIndex(1)

    init(log: PartitionLog, configuration: Configuration, snapshot: CartStorage.Snapshot?) {
        self.log = log
        self.configuration = configuration
        if let snapshot {
            snapshotMetadata = SnapshotMetadata(index: snapshot.lastIndex, term: snapshot.term, configuration: configuration)
            snapshotData = snapshot.data
        } else {
            snapshotMetadata = SnapshotMetadata(index: .zero, term: .zero, configuration: configuration)
            snapshotData = []
        }
    }

    // MARK: RaftLogStorage

    /// Entries through this index are committed though the hard state may say less: the
    /// replica applied them before it stopped (its applied mark) and again at start.
    var commitFloor = LogIndex.zero

    func initialState() throws -> RaftInitialState {
        let stored = try log.loadHardState()
        return RaftInitialState(hardState: CartRaft.HardState(term: stored.term, vote: stored.vote, commit: max(stored.commit, commitFloor)),
                                configuration: configuration)
    }

    func entries(_ range: Range<LogIndex>, bytesMax: Int) throws -> [Entry] {
        guard !range.isEmpty else { return [] }
        guard range.lowerBound >= (try firstIndex()) else { throw RaftStorageError.compacted }
        guard range.upperBound.previous <= (try lastIndex()) else { throw RaftStorageError.unavailable }
        if let cached = cachedEntries(range, bytesMax: bytesMax) { return cached }
        return try log.entries(from: range.lowerBound, through: range.upperBound.previous, payloadBytesMax: bytesMax)
            .map { Entry(term: $0.term, index: $0.index, data: $0.payload) }
    }

    func term(at index: LogIndex) throws -> Term {
        if index == snapshotMetadata.index { return snapshotMetadata.term }
        guard index >= (try firstIndex()).previous else { throw RaftStorageError.compacted }
        guard index <= (try lastIndex()) else { throw RaftStorageError.unavailable }
        if index >= recentFirst, index.rawValue < recentFirst.rawValue + UInt64(recent.count) {
            return recent[Int(index.rawValue - recentFirst.rawValue)].term
        }
        return try log.term(at: index)
    }

    func firstIndex() throws -> LogIndex { max(log.firstIndex, snapshotMetadata.index.next) }

    func lastIndex() throws -> LogIndex { max(log.lastIndex, snapshotMetadata.index) }

    func snapshot() throws -> CartRaft.Snapshot {
        CartRaft.Snapshot(metadata: snapshotMetadata, data: snapshotData)
    }

    // MARK: Writing (the replica's persist step)

    /// The index after which the log holds a suffix that `entries` replace (§5.3), to cut
    /// before they are appended; nil when they continue the log.
    func conflictingSuffix(of entries: [Entry]) -> LogIndex? {
        guard let first = entries.first, first.index <= log.lastIndex else { return nil }
        return first.index.previous
    }

    /// Appends `entries`, first cutting any stored suffix they replace (§5.3), unless the
    /// replica cut it already (off the loop).
    func append(_ entries: [Entry], startingSync: Bool = true, onDurable: @escaping DurabilityCompletion) throws {
        guard let first = entries.first else { return }
        if let cut = conflictingSuffix(of: entries) { try log.truncateSuffix(after: cut) }
        dropRecent(from: first.index)
        try log.append(entries.map { StoredEntry(index: $0.index, term: $0.term, payload: $0.data) }, startingSync: startingSync,
                       onDurable: onDurable)
        remember(entries)
    }

    /// A follower installing the leader's snapshot, on any thread: saves it (unless
    /// `alreadySaved`: written and synced ahead) and makes it the log's new floor, discarding
    /// the log. `adoptInstalled` then updates this view, on the loop.
    static func installFiles(_ snapshot: CartRaft.Snapshot, alreadySaved: Bool, in log: PartitionLog) throws {
        if !alreadySaved {
            try log.snapshots.save(CartStorage.Snapshot(lastIndex: snapshot.metadata.index, term: snapshot.metadata.term,
                                                        data: snapshot.data))
        }
        try log.resetForSnapshot(index: snapshot.metadata.index, term: snapshot.metadata.term)
    }

    /// The install in memory, once `installFiles` returned.
    func adoptInstalled(_ snapshot: CartRaft.Snapshot) {
        snapshotMetadata = SnapshotMetadata(index: snapshot.metadata.index, term: snapshot.metadata.term, configuration: configuration)
        snapshotData = snapshot.data
        recent.removeAll()
        recentFirst = snapshot.metadata.index.next
    }

    /// Makes an already saved snapshot of the local state machine at `index` the log's floor;
    /// does nothing if the floor is already at or past it. Says whether the log still holds
    /// entries up to `index`: the caller then compacts them, off the loop
    /// (`PartitionLog.compactPrefix`). Raft reads nothing below the new floor meanwhile.
    func adoptSavedSnapshot(through index: LogIndex, term: Term, data: [UInt8]) -> Bool {
        guard index > snapshotMetadata.index else { return false }
        snapshotMetadata = SnapshotMetadata(index: index, term: term, configuration: configuration)
        snapshotData = data
        return index >= log.firstIndex && index <= log.lastIndex
    }

    private func remember(_ entries: [Entry]) {
        if recent.isEmpty { recentFirst = entries[0].index }
        recent.append(contentsOf: entries)
        if recent.count > Self.recentEntriesMax {
            let drop = recent.count - Self.recentEntriesMax / 2
            recent.removeFirst(drop)
            recentFirst = recentFirst.advanced(by: Int64(drop))
        }
    }

    private func dropRecent(from index: LogIndex) {
        guard index >= recentFirst else {
            recent.removeAll()
            return
        }
        let keep = Int(index.rawValue - recentFirst.rawValue)
        if keep < recent.count { recent.removeLast(recent.count - keep) }
    }

    private func cachedEntries(_ range: Range<LogIndex>, bytesMax: Int) -> [Entry]? {
        guard !recent.isEmpty, range.lowerBound >= recentFirst,
              range.upperBound.rawValue <= recentFirst.rawValue + UInt64(recent.count) else { return nil }
        let start = Int(range.lowerBound.rawValue - recentFirst.rawValue)
        let end = Int(range.upperBound.rawValue - recentFirst.rawValue)
        var result: [Entry] = []
        result.reserveCapacity(end - start)
        var bytes = 0
        for entry in recent[start..<end] {
            if !result.isEmpty && bytes + entry.sizeBytes > bytesMax { break }
            bytes += entry.sizeBytes
            result.append(entry)
        }
        return result
    }
}
