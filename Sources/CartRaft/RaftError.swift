import CartTypes

/// Expected failures of the Raft API. Each has a stable `code` (for the wire and metrics)
/// and a human message.
public enum RaftError: Error, Hashable, Codable, Sendable, CustomStringConvertible {
    /// This node is not the leader. Proposals and transfers are rejected rather than
    /// forwarded so the caller (the gateway) can redirect the client to `leaderHint`
    /// (`NodeID.none` when unknown) and keep one place that retries.
    case notLeader(leaderHint: NodeID)
    /// The leader refused the proposal to bound its uncommitted log (`uncommittedBytesMax`).
    case proposalDropped
    /// The leader is handing over leadership and accepts no proposals until that ends.
    case transferInProgress
    /// A single proposal is larger than `proposalBytesMax`.
    case proposalTooLarge(bytes: Int, bytesMax: Int)
    /// Too many ReadIndex requests are waiting (`readIndexPendingMax`).
    case readIndexDropped
    /// A leadership transfer named a node that is not a voter, or the leader itself.
    case transferTargetInvalid(target: NodeID)
    /// A message failed validation; the node's state is unchanged.
    case malformedMessage(reason: String)

    public var code: Int {
        switch self {
        case .notLeader: 1
        case .proposalDropped: 2
        case .transferInProgress: 3
        case .proposalTooLarge: 4
        case .readIndexDropped: 5
        case .transferTargetInvalid: 6
        case .malformedMessage: 7
        }
    }

    public var description: String {
        switch self {
        case .notLeader(let hint):
            hint == .none ? "not the leader; leader unknown" : "not the leader; try \(hint)"
        case .proposalDropped: "proposal dropped: too many uncommitted bytes on the leader"
        case .transferInProgress: "proposal rejected: leadership transfer in progress"
        case .proposalTooLarge(let bytes, let bytesMax):
            "proposal of \(bytes) bytes exceeds proposalBytesMax \(bytesMax)"
        case .readIndexDropped: "read dropped: too many ReadIndex requests pending"
        case .transferTargetInvalid(let node): "cannot transfer leadership to \(node)"
        case .malformedMessage(let reason): "malformed message: \(reason)"
        }
    }

    enum CodingKeys: Int, CodingKey {
        case notLeader = 1
        case proposalDropped = 2
        case transferInProgress = 3
        case proposalTooLarge = 4
        case readIndexDropped = 5
        case transferTargetInvalid = 6
        case malformedMessage = 7
    }

    enum NotLeaderCodingKeys: Int, CodingKey { case leaderHint = 1 }
    enum ProposalTooLargeCodingKeys: Int, CodingKey { case bytes = 1, bytesMax = 2 }
    enum TransferTargetInvalidCodingKeys: Int, CodingKey { case target = 1 }
    enum MalformedMessageCodingKeys: Int, CodingKey { case reason = 1 }
}

/// Errors a `RaftLogStorage` may report. Anything else a storage throws is an IO failure
/// the node cannot work around.
public enum RaftStorageError: Error, Hashable, Sendable {
    /// The requested index is below the first index: it has been compacted into a snapshot.
    case compacted
    /// The requested index is beyond the last index.
    case unavailable
    /// The snapshot is being built; the leader retries on a later heartbeat.
    case snapshotTemporarilyUnavailable
}
