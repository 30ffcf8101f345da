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
