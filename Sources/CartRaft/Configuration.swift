import CartTypes

/// The voters of a Raft group. Membership is static for now, but every quorum decision goes
/// through this value so that joint consensus (§6 of Ongaro's thesis) can be added by giving
/// it an outgoing voter set and requiring a majority of both.
public struct Configuration: Hashable, Codable, Sendable {
    /// Sorted and unique, so iteration order (and therefore message order) is deterministic.
    public let voters: [NodeID]

    public init(voters: [NodeID]) {
        self.voters = Array(Set(voters)).sorted()
    }

    public var quorumSize: Int { voters.count / 2 + 1 }

    public func contains(_ node: NodeID) -> Bool { voters.contains(node) }

    /// Whether the nodes for which `isYes` holds form a majority of the voters.
    public func hasQuorum(_ isYes: (NodeID) -> Bool) -> Bool {
        voters.reduce(0) { $0 + (isYes($1) ? 1 : 0) } >= quorumSize
    }

    /// The outcome of an election given the votes received so far.
    public func voteResult(_ votes: [NodeID: Bool]) -> VoteResult {
        let granted = voters.reduce(0) { $0 + (votes[$1] == true ? 1 : 0) }
        let missing = voters.reduce(0) { $0 + (votes[$1] == nil ? 1 : 0) }
        if granted >= quorumSize { return .won }
        if granted + missing >= quorumSize { return .pending }
        return .lost
    }

    /// The highest index stored on a majority of voters, given each voter's match index.
    public func committedIndex(_ matchIndex: (NodeID) -> LogIndex) -> LogIndex {
        guard !voters.isEmpty else { return .zero }
        // Called on every acknowledgement: sort the few match indexes in place, on the stack.
        return withUnsafeTemporaryAllocation(of: LogIndex.self, capacity: voters.count) { matches in
            for (position, voter) in voters.enumerated() {
                let match = matchIndex(voter)
                var slot = position
                while slot > 0 && matches[slot - 1] < match {
                    matches[slot] = matches[slot - 1]
                    slot -= 1
                }
                matches[slot] = match
            }
            return matches[quorumSize - 1]
        }
    }

    enum CodingKeys: Int, CodingKey {
        case voters = 1
    }
}

public enum VoteResult: Sendable, Hashable {
    case won
    case lost
    case pending
}
