import CartTypes
import Foundation

/// Where each partition's leader is believed to be, learned from redirects (`notLeader`
/// with a leader hint) and successful calls.
///
/// Raft elects at most one leader per term (§5.2), so a hint with a higher term is newer
/// information and a hint with a lower term is stale. When the cached entry's term is known,
/// only a hint with a higher term (or the same leader for the same term) replaces it; a hint
/// without a term replaces only an entry without a term. A cached leader that turns out to be
/// wrong without a better hint is dropped with `invalidate`.
///
/// `@unchecked Sendable`: entries are behind `lock`, touched only inside `withLock`.
public final class LeaderCache: @unchecked Sendable {
    public struct Leader: Hashable, Sendable {
        public let node: NodeID
        /// The term the hint was valid in, when the hint said so.
        public let term: Term?

        public init(node: NodeID, term: Term?) {
            self.node = node
            self.term = term
        }
    }

    /// More entries than partitions can exist cannot be needed; refusing them keeps a peer
    /// that sends hints for made-up partitions from growing the cache.
    public let entriesMax: Int
    private let lock = NSLock()
    private var leaders: [PartitionID: Leader] = [:]

    public init(entriesMax: Int = Int(PartitionMap.partitionCountMax)) {
        self.entriesMax = entriesMax
    }

    public func leader(of partition: PartitionID) -> Leader? {
        lock.withLock { leaders[partition] }
    }

    /// Records a leader hint. Returns whether the cache changed.
    @discardableResult
    public func learn(_ hint: Leader, for partition: PartitionID) -> Bool {
        guard hint.node != .none else { return false }
        return lock.withLock {
            if let cached = leaders[partition] {
                guard Self.supersedes(hint, cached) else { return false }
            } else if leaders.count >= entriesMax {
                return false
            }
            leaders[partition] = hint
            return true
        }
    }

    /// Forgets the cached leader of `partition` if it is still `node` (a call to it failed
    /// without a redirect); a newer entry learned meanwhile is kept.
    public func invalidate(_ partition: PartitionID, ifLeaderIs node: NodeID) {
        lock.withLock {
            if leaders[partition]?.node == node { leaders[partition] = nil }
        }
    }

    public var count: Int { lock.withLock { leaders.count } }

    static func supersedes(_ hint: Leader, _ cached: Leader) -> Bool {
        switch (hint.term, cached.term) {
        case let (new?, old?): new > old || (new == old && hint.node == cached.node)
        case (_?, nil): true
        case (nil, _?): false
        case (nil, nil): true
        }
    }
}
