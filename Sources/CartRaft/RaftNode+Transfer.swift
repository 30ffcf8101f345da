import CartTypes

/// Leadership transfer (thesis §3.10).
extension RaftNode {
    /// Hands leadership to `target`: the leader stops taking proposals, brings `target`'s
    /// log up to date, then tells it to campaign at once (`timeoutNow`). If that has not
    /// happened within an election timeout, the transfer is abandoned and proposals resume.
    public func transferLeadership(to target: NodeID) throws(RaftError) {
        guard role == .leader else { throw .notLeader(leaderHint: leader) }
        guard target != id, configuration.contains(target) else {
            throw .transferTargetInvalid(target: target)
        }
        if transferee == target { return }
        transferee = target
        // The transfer must finish within one election timeout.
        electionElapsedTicks = 0
        if progress[target]?.match == log.lastIndex {
            sendTimeoutNow(to: target)
        } else {
            sendAppend(to: target)
        }
    }

    func sendTimeoutNow(to node: NodeID) {
        send(Message(kind: .timeoutNow, from: id, to: node, term: term))
    }
}
