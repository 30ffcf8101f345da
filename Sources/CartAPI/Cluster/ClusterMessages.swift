import CartRaft
import CartRPC
import CartTypes
import CartWire

/// `Cluster.status` and `Cluster.health` take no arguments.
public struct ClusterStatusRequest: Codable, Hashable, Sendable, RPCMessage {
    public init() {}
}

/// A cluster member and where clients reach it.
public struct NodeAddress: Codable, Hashable, Sendable {
    public var node: NodeID
    /// `host:port` of the node's client listener.
    public var clientAddress: String

    public init(node: NodeID, clientAddress: String) {
        self.node = node
        self.clientAddress = clientAddress
    }

    enum CodingKeys: Int, CodingKey { case node = 1, clientAddress = 2 }
}

/// One partition replica as the answering node sees it.
public struct PartitionStatus: Codable, Hashable, Sendable {
    public var partition: PartitionID
    /// The nodes that replicate the partition (placement order).
    public var replicas: [NodeID]
    public var role: Role
    /// `NodeID.none` when no leader is known.
    public var leader: NodeID
    public var term: Term
    public var commitIndex: LogIndex
    public var appliedIndex: LogIndex
    public var lastIndex: LogIndex
    /// The index of the newest local snapshot (0: none).
    public var snapshotIndex: LogIndex

    public init(partition: PartitionID, replicas: [NodeID], role: Role, leader: NodeID, term: Term,
                commitIndex: LogIndex, appliedIndex: LogIndex, lastIndex: LogIndex, snapshotIndex: LogIndex) {
        self.partition = partition
        self.replicas = replicas
        self.role = role
        self.leader = leader
        self.term = term
        self.commitIndex = commitIndex
        self.appliedIndex = appliedIndex
        self.lastIndex = lastIndex
        self.snapshotIndex = snapshotIndex
    }

    enum CodingKeys: Int, CodingKey {
        case partition = 1, replicas = 2, role = 3, leader = 4, term = 5, commitIndex = 6
        case appliedIndex = 7, lastIndex = 8, snapshotIndex = 9
    }
}

/// The answer to `Cluster.status`: the answering node's view of every partition it hosts.
/// Ask every node in `nodes` for the per-node picture.
public struct ClusterStatusReply: Codable, Hashable, Sendable, RPCMessage {
    public var node: NodeID
    public var nodes: [NodeAddress]
    public var partitionCount: UInt32
    public var partitions: [PartitionStatus]
    /// Every partition's replicas, hosted here or not (nil from nodes that predate it), so a
    /// client can send a partition's local reads and watches to its replicas.
    public var placement: [PartitionReplicas]?

    public init(node: NodeID, nodes: [NodeAddress], partitionCount: UInt32, partitions: [PartitionStatus],
                placement: [PartitionReplicas]? = nil) {
        self.node = node
        self.nodes = nodes
        self.partitionCount = partitionCount
        self.partitions = partitions
        self.placement = placement
    }

    enum CodingKeys: Int, CodingKey { case node = 1, nodes = 2, partitionCount = 3, partitions = 4, placement = 5 }
}

/// The nodes that replicate one partition, in placement order.
public struct PartitionReplicas: Codable, Hashable, Sendable {
    public var partition: PartitionID
    public var replicas: [NodeID]

    public init(partition: PartitionID, replicas: [NodeID]) {
        self.partition = partition
        self.replicas = replicas
    }

    enum CodingKeys: Int, CodingKey { case partition = 1, replicas = 2 }
}

/// The answer to `Cluster.health`.
public struct HealthReply: Codable, Hashable, Sendable, RPCMessage {
    public var node: NodeID
    /// True when every hosted partition knows a leader and the node is not draining.
    public var ready: Bool
    public var partitionsHosted: UInt32
    public var partitionsWithLeader: UInt32
    public var partitionsLed: UInt32
    /// Since the node started: group-commit `fdatasync` calls over its partition logs, and
    /// entries its replicas saw committed and applied. Absent from nodes that predate them.
    public var storageSyncs: UInt64?
    public var entriesCommitted: UInt64?
    public var entriesApplied: UInt64?
    /// Since the node started: journal syncs (write and `fdatasync` of one batch) that took
    /// 100 ms or more, the longest one, and event-loop stalls of 250 ms or more. A disk that
    /// stalls makes every write on the node wait; absent from nodes that predate them (and
    /// the sync figures from nodes without a journal).
    public var journalSlowSyncs: UInt64?
    public var journalLongestSyncMicros: UInt64?
    public var loopStalls: UInt64?

    public init(node: NodeID, ready: Bool, partitionsHosted: UInt32, partitionsWithLeader: UInt32, partitionsLed: UInt32) {
        self.node = node
        self.ready = ready
        self.partitionsHosted = partitionsHosted
        self.partitionsWithLeader = partitionsWithLeader
        self.partitionsLed = partitionsLed
    }

    enum CodingKeys: Int, CodingKey {
        case node = 1, ready = 2, partitionsHosted = 3, partitionsWithLeader = 4, partitionsLed = 5
        case storageSyncs = 6, entriesCommitted = 7, entriesApplied = 8
        case journalSlowSyncs = 9, journalLongestSyncMicros = 10, loopStalls = 11
    }
}
