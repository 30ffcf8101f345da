/// Where a cart read is served.
public enum ReadConsistency: Sendable, Hashable {
    /// At the cart partition's leader after a ReadIndex round: the answer holds every write
    /// acknowledged before the read began.
    case linearizable
    /// From one replica's applied state, without the leader, so it answers during an election
    /// or while the leader is out of reach, and may miss the latest writes (see
    /// `ReplicaPosition`). `at`: that node only, no failing over; nil: any node, and one that
    /// hosts no replica of the cart (or is cut off from its peers) names one that does.
    case local(at: Endpoint?)
}

extension ReadConsistency {
    /// The requests' `local` field: true for a local read, absent for a linearizable one.
    var localField: Bool? {
        if case .local = self { return true }
        return nil
    }

    /// Where a local read goes (that node, or any); nil for a linearizable read, which goes
    /// to the cart partition's leader.
    var localRoute: Route? {
        guard case .local(let endpoint) = self else { return nil }
        return endpoint.map { .node($0) } ?? .anyNode
    }
}
