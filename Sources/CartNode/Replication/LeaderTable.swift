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

    func set(_ leader: NodeID, for partition: PartitionID) {
        leaders.withLockedValue { $0[Int(partition.rawValue)] = leader }
    }
}
