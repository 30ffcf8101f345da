import CartTypes

/// What a node must have on stable storage before it sends any message of the same Ready
/// (§5.1 "persistent state on all servers"): the current term, the vote cast in it, and
/// the commit index (kept so a restart does not re-apply from zero).
public struct HardState: Hashable, Codable, Sendable {
    public var term: Term
    public var vote: NodeID
    public var commit: LogIndex

    public init(term: Term = .zero, vote: NodeID = .none, commit: LogIndex = .zero) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }

    public static let empty = HardState()

    enum CodingKeys: Int, CodingKey {
        case term = 1
        case vote = 2
        case commit = 3
    }
}

/// Volatile state worth telling the caller about (for routing and metrics); never persisted.
public struct SoftState: Hashable, Codable, Sendable {
    public var leader: NodeID
    public var role: Role

    public init(leader: NodeID, role: Role) {
        self.leader = leader
        self.role = role
    }

    enum CodingKeys: Int, CodingKey {
        case leader = 1
        case role = 2
    }
}

/// The role a node plays in its current term (§5.2, plus the pre-candidate of thesis §9.6).
public enum Role: UInt8, Hashable, Codable, Sendable, CustomStringConvertible {
    case follower = 1
    case preCandidate = 2
    case candidate = 3
    case leader = 4

    public var description: String {
        switch self {
        case .follower: "follower"
        case .preCandidate: "pre-candidate"
        case .candidate: "candidate"
        case .leader: "leader"
        }
    }
}
