import CartDomain
import CartRaft
import CartTypes

/// What a replica tells the rest of the node, called on the replica's event loop.
struct ReplicaHooks: Sendable {
    /// The partition's leader changed (`NodeID.none`: unknown).
    var leaderChanged: @Sendable (PartitionID, NodeID) -> Void
    /// This node leads the partition: called once the new leader has applied an entry of its
    /// own term (so its state holds every earlier decision), then every
    /// `checkoutSweepIntervalMs` while it leads, to resume unfinished checkouts.
    var leading: @Sendable (PartitionReplica) -> Void
    /// An item's state changed on this replica (or the replica restored a snapshot).
    var itemChanged: @Sendable (Item) -> Void
}
