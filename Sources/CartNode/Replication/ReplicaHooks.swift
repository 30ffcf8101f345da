import CartDomain
import CartRaft
import CartTypes

/// What a replica tells the rest of the node, called on the replica's event loop.
struct ReplicaHooks: Sendable {
    /// The partition's leader changed (`NodeID.none`: unknown).
    var leaderChanged: @Sendable (PartitionID, NodeID) -> Void
    /// This node leads the partition: called when it becomes the leader, then every
    /// `checkoutSweepIntervalMs` while it leads, to resume unfinished checkouts.
    var leading: @Sendable (PartitionReplica) -> Void
    /// An item's state changed on this replica (or the replica restored a snapshot).
    var itemChanged: @Sendable (Item) -> Void
}
