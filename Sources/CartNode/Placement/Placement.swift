import CartTypes

/// Which nodes replicate which partition, and which partition holds a key. Deterministic
/// from the member list alone, so every node computes the same answer without talking:
/// partition p lives on the sorted members (p + k) mod N for k in 0..<min(R, N).
public struct Placement: Sendable, Hashable {
    public let map: PartitionMap
    public let nodes: [NodeID]
    public let replicationFactor: Int

    public init(partitionCount: UInt32, nodes: [NodeID], replicationFactor: Int) {
        precondition(!nodes.isEmpty, "placement needs at least one node")
        self.map = PartitionMap(partitionCount: partitionCount)
        self.nodes = nodes.sorted()
        self.replicationFactor = min(replicationFactor, nodes.count)
    }

    public var partitions: [PartitionID] { (0..<map.partitionCount).map { PartitionID($0) } }

    /// The replicas of `partition`, in placement order.
    public func replicas(of partition: PartitionID) -> [NodeID] {
        (0..<replicationFactor).map { k in nodes[(Int(partition.rawValue) + k) % nodes.count] }
    }

    /// The partitions `node` hosts a replica of.
    public func partitions(hostedBy node: NodeID) -> [PartitionID] {
        partitions.filter { replicas(of: $0).contains(node) }
    }

    public func partition(of cart: CartID) -> PartitionID { map.partition(of: cart) }
    public func partition(of item: ItemID) -> PartitionID { map.partition(of: item) }
    public func partition(of user: UserID) -> PartitionID { map.partition(of: user) }
}
