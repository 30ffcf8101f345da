import CartTypes
import NIOConcurrencyHelpers

/// This node's belief about each partition's leader, written by the replicas on their loops
/// (from Raft's soft state) and read by request routing on any loop.
final class LeaderTable: Sendable {
    private let leaders: NIOLockedValueBox<[NodeID]>

    init(partitionCount: UInt32) {
        leaders = NIOLockedValueBox(Array(repeating: .none, count: Int(partitionCount)))
    }

    func leader(of partition: PartitionID) -> NodeID {
        leaders.withLockedValue { $0[Int(partition.rawValue)] }
    }

    /// Every partition's leader, indexed by partition number.
    func all() -> [NodeID] {
        leaders.withLockedValue { $0 }
    }

    func set(_ leader: NodeID, for partition: PartitionID) {
        leaders.withLockedValue { $0[Int(partition.rawValue)] = leader }
    }
}
