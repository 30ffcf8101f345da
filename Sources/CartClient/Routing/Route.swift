import CartAPI
import CartTypes
import CartWire

/// Where one call should go.
enum Route: Sendable {
    /// To the leader of a partition when known, else any node (which forwards).
    case partition(PartitionID?)
    /// Any node: the request is not tied to a partition (login, status).
    case anyNode
    /// Exactly this node, no failing over (per-node status).
    case node(Endpoint)
    /// Any replica of a partition, in turn (a local read): the replicas the cluster's status
    /// named, else any node (one that hosts no replica names one that does).
    case replica(PartitionID?)

    /// The partition whose leader this route follows: replies and refusals on it teach the
    /// client that partition's leader. A replica's answer names no leader.
    var partition: PartitionID? {
        if case .partition(let partition) = self { return partition }
        return nil
    }
}

/// Replies that name the partition leader when the request was forwarded to it; no hint
/// means the node asked was the leader.
protocol LeaderHinted {
    var leaderHint: LeaderHint? { get }
}

extension CartWriteReply: LeaderHinted {}
extension CartReply: LeaderHinted {}
