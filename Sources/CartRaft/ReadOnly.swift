import CartTypes

/// One ReadIndex request waiting for a majority to confirm the leader is still leader.
struct PendingRead {
    let index: LogIndex
    let context: [UInt8]
    /// Who asked: this node, or the follower that forwarded it.
    let requester: NodeID
    var acks: Set<NodeID>
}

/// The leader's ReadIndex bookkeeping (thesis §6.4): each request records the commit index
/// at arrival, piggybacks its context on a heartbeat round, and is released once a majority
/// answers that round. Requests are released in order, so an acknowledgement of a later
/// request also releases earlier ones.
struct ReadOnly {
    private(set) var queue: [PendingRead] = []

    var count: Int { queue.count }

    var newestContext: [UInt8]? { queue.last?.context }

    func contains(_ context: [UInt8]) -> Bool {
        queue.contains { $0.context == context }
    }

    mutating func add(index: LogIndex, context: [UInt8], requester: NodeID) {
        guard !contains(context) else { return }
        queue.append(PendingRead(index: index, context: context, requester: requester, acks: []))
    }

    /// Records that `node` answered the heartbeat round carrying `context`, and returns the
    /// requests that are now confirmed (removing them), oldest first.
    mutating func acknowledge(_ context: [UInt8], from node: NodeID,
                              configuration: Configuration) -> [PendingRead] {
        guard let position = queue.firstIndex(where: { $0.context == context }) else { return [] }
        queue[position].acks.insert(node)
        let acks = queue[position].acks
        guard configuration.hasQuorum({ acks.contains($0) }) else { return [] }
        let released = Array(queue[...position])
        queue.removeFirst(position + 1)
        return released
    }

    mutating func reset() {
        queue.removeAll()
    }
}
