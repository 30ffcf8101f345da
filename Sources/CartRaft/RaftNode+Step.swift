import CartTypes

/// Message dispatch: term rules first (§5.1), then by role.
extension RaftNode {
    func handle(_ message: Message) {
        guard handleTerm(of: message) else { return }
        switch message.kind {
        case .requestVote, .requestPreVote:
            handleVoteRequest(message)
            return
        default:
            break
        }
        switch role {
        case .leader: stepLeader(message)
        case .candidate, .preCandidate: stepCandidate(message)
        case .follower: stepFollower(message)
        }
    }

    /// Applies the term rules. Returns false if the message is finished with.
    private func handleTerm(of message: Message) -> Bool {
        if message.term > term {
            return handleHigherTerm(message)
        }
        if message.term < term {
            handleLowerTerm(message)
            return false
        }
        return true
    }

    private func handleHigherTerm(_ message: Message) -> Bool {
        if message.kind.isVoteRequest {
            // Leader lease (thesis §4.2.3, needed with check-quorum): while we have heard
            // from a leader within the minimum election timeout, a vote request can only
            // come from a disruptive node, so ignore it. A transfer overrides the lease.
            let inLease = options.checkQuorum && leader != .none
                && electionElapsedTicks < options.electionTimeoutTicks
            if inLease && !message.leadershipTransfer { return false }
        }
        switch message.kind {
        case .requestPreVote:
            // Pre-votes never change our term.
            return true
        case .requestPreVoteResponse where !message.reject:
            // A granted pre-vote carries the term we would campaign in; we move to it
            // when the real election starts.
            return true
        case .append, .heartbeat, .snapshot, .commitNotice:
            becomeFollower(term: message.term, leader: message.from)
        default:
            becomeFollower(term: message.term, leader: .none)
        }
        return true
    }

    private func handleLowerTerm(_ message: Message) {
        let fromStaleLeader = message.kind == .append || message.kind == .heartbeat || message.kind == .commitNotice
        switch message.kind {
        case _ where fromStaleLeader && (options.checkQuorum || options.preVote):
            // A stale leader: tell it our term so it steps down. Without this, with
            // check-quorum or pre-vote a node that moved to a higher term could never be
            // reached by the old leader's followers and the group could stall.
            send(Message(kind: .appendResponse, from: id, to: message.from, term: term))
        case .requestPreVote:
            var response = Message(kind: .requestPreVoteResponse, from: id, to: message.from, term: term)
            response.reject = true
            send(response)
        default:
            break
        }
    }

    func stepCandidate(_ message: Message) {
        switch message.kind {
        case .append:
            becomeFollower(term: message.term, leader: message.from)
            handleAppend(message)
        case .heartbeat:
            becomeFollower(term: message.term, leader: message.from)
            handleHeartbeat(message)
        case .commitNotice:
            becomeFollower(term: message.term, leader: message.from)
            handleCommitNotice(message)
        case .snapshot:
            becomeFollower(term: message.term, leader: message.from)
            handleSnapshot(message)
        case .requestVoteResponse, .requestPreVoteResponse:
            handleVoteResponse(message)
        default:
            // Reads and transfers need a leader; the requester retries after a timeout.
            break
        }
    }

    func stepFollower(_ message: Message) {
        switch message.kind {
        case .append:
            electionElapsedTicks = 0
            leader = message.from
            handleAppend(message)
        case .heartbeat:
            electionElapsedTicks = 0
            leader = message.from
            handleHeartbeat(message)
        case .commitNotice:
            electionElapsedTicks = 0
            leader = message.from
            handleCommitNotice(message)
        case .snapshot:
            electionElapsedTicks = 0
            leader = message.from
            handleSnapshot(message)
        case .timeoutNow:
            // The leader picked us as its successor (thesis §3.10): campaign at once,
            // skipping pre-vote, with a term bump the others honour despite their lease.
            startCampaign(transfer: true)
        case .readIndexResponse:
            readStates.append(ReadState(index: message.index, context: message.context))
        default:
            break
        }
    }
}
