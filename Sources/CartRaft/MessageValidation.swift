import CartTypes

/// Checks of messages from the network. A peer running a different version or a corrupted
/// frame must not be able to crash the node or break a log invariant, so anything the core
/// would otherwise trust is checked here and rejected as a typed error.
extension RaftNode {
    func validate(_ message: Message) throws(RaftError) {
        guard message.to == id else {
            throw .malformedMessage(reason: "addressed to \(message.to), this is \(id)")
        }
        guard message.from != .none, message.from != id else {
            throw .malformedMessage(reason: "invalid sender \(message.from)")
        }
        switch message.kind {
        case .append:
            try validateAppendEntries(message)
        case .snapshot:
            guard let snapshot = message.snapshot, !snapshot.isEmpty else {
                throw .malformedMessage(reason: "snapshot message without a snapshot")
            }
            guard snapshot.metadata.term <= message.term,
                  !snapshot.metadata.configuration.voters.isEmpty else {
                throw .malformedMessage(reason: "snapshot metadata inconsistent")
            }
        case .requestVote, .requestPreVote:
            guard message.logTerm <= message.term else {
                throw .malformedMessage(reason: "candidate's last term above its election term")
            }
        default:
            guard message.entries.isEmpty else {
                throw .malformedMessage(reason: "\(message.kind) carries entries")
            }
        }
    }

    /// Entries must follow `index` contiguously, with terms that never decrease, start at
    /// or above `logTerm` and end at or below the leader's term (§5.3 log properties).
    private func validateAppendEntries(_ message: Message) throws(RaftError) {
        guard message.logTerm <= message.term else {
            throw .malformedMessage(reason: "previous entry's term above the leader's term")
        }
        var expectedIndex = message.index.next
        var previousTerm = message.logTerm
        for entry in message.entries {
            guard entry.index == expectedIndex else {
                throw .malformedMessage(reason: "entry \(entry.index) where \(expectedIndex) was expected")
            }
            guard entry.term >= previousTerm, entry.term <= message.term else {
                throw .malformedMessage(reason: "entry \(entry.index) has term \(entry.term) out of order")
            }
            expectedIndex = expectedIndex.next
            previousTerm = entry.term
        }
    }
}
