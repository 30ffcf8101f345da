import CartTypes

/// Where a cart read is served.
public enum ReadConsistency: Sendable, Hashable {
    /// At the cart partition's leader after a ReadIndex round: the answer holds every write
    /// acknowledged before the read began.
    case linearizable
    /// From one replica's applied state, without the leader, so it answers during an election
    /// or while the leader is out of reach, and may miss the latest writes (see
    /// `ReplicaPosition`). `at`: that node only, no failing over; nil: the cart partition's
    /// replicas in turn (any node until the cluster's status named them; one that hosts no
    /// replica of the cart, or is cut off from its peers, names one that does).
    case local(at: Endpoint?)
}

extension ReadConsistency {
    /// The requests' `local` field: true for a local read, absent for a linearizable one.
    var localField: Bool? {
        if case .local = self { return true }
        return nil
    }

    /// Where a read of a cart in `partition` goes: a linearizable one to the partition's
    /// leader; a local one to its node, or to the partition's replicas in turn.
    func route(to partition: PartitionID?) -> Route {
        switch self {
        case .linearizable: .partition(partition)
        case .local(let endpoint?): .node(endpoint)
        case .local(nil): .replica(partition)
        }
    }
}
