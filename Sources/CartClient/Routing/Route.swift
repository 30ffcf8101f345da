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
