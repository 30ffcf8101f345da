import CartTypes

/// Role changes and elections (§5.2, pre-vote from thesis §9.6).
extension RaftNode {
    func becomeFollower(term newTerm: Term, leader newLeader: NodeID) {
        reset(term: newTerm)
        role = .follower
        leader = newLeader
    }

    func becomePreCandidate() {
        precondition(role != .leader, "a leader cannot become a pre-candidate")
        // A pre-election changes neither term nor vote, so a node that cannot win leaves
        // no trace on the others (thesis §9.6).
        votes = [:]
        transferee = .none
        role = .preCandidate
        leader = .none
        electionElapsedTicks = 0
        resetRandomizedElectionTimeout()
    }

    func becomeCandidate() {
        precondition(role != .leader, "a leader cannot become a candidate")
        reset(term: term.next)
        vote = id
        role = .candidate
    }

    func becomeLeader() {
        precondition(role == .candidate, "only a candidate becomes leader")
        reset(term: term)
        role = .leader
        leader = id
        progress.update(id) { own in
            // With leaderSendsBeforeDurable the caller's `persisted` reports raise it.
            own.match = options.leaderSendsBeforeDurable ? .zero : log.lastIndex
            own.becomeReplicate()
        }
        // The no-op entry (§5.4.2, §8): committing one entry of the new term commits
        // everything before it and lets ReadIndex start.
        let appended = appendAsLeader([Entry(term: term, index: log.lastIndex.next, data: [])])
        precondition(appended, "a fresh leader always has room for its no-op entry")
    }

    /// Clears per-term state; a new term also clears the vote.
    func reset(term newTerm: Term) {
        if newTerm != term {
            term = newTerm
            vote = .none
        }
        leader = .none
        electionElapsedTicks = 0
        heartbeatElapsedTicks = 0
        resetRandomizedElectionTimeout()
        transferee = .none
        votes = [:]
        progress = ProgressTracker(voters: configuration.voters) { node in
            var peer = Progress(next: log.lastIndex.next, inflightAppendsMax: options.inflightAppendsMax)
            if node == id && !options.leaderSendsBeforeDurable { peer.match = log.lastIndex }
            peer.recentActive = node == id
            return peer
        }
        readOnly.reset()
        readsAwaitingFirstCommit.removeAll()
        uncommittedBytes = 0
        appendsOwed = false
    }

    func resetRandomizedElectionTimeout() {
        let spread = UInt64(options.electionTimeoutTicks)
        randomizedElectionTimeoutTicks = options.electionTimeoutTicks + Int(random.next() % spread)
    }

    var isPromotable: Bool { configuration.contains(id) }

    func tickElection() {
        electionElapsedTicks += 1
        guard isPromotable, electionElapsedTicks >= randomizedElectionTimeoutTicks else { return }
        electionElapsedTicks = 0
        startCampaign(transfer: false)
    }

    /// Starts a pre-election (or, with pre-vote off or for a leadership transfer, a real
    /// election).
    func startCampaign(transfer: Bool) {
        guard isPromotable else { return }
        if options.preVote && !transfer {
            becomePreCandidate()
            requestVotes(kind: .requestPreVote, term: term.next, transfer: false)
        } else {
            becomeCandidate()
            requestVotes(kind: .requestVote, term: term, transfer: transfer)
        }
    }

    private func requestVotes(kind: MessageKind, term electionTerm: Term, transfer: Bool) {
        // Our own vote first: a one-node group wins at once.
        if recordVote(from: id, granted: true) == .won {
            electionWon()
            return
        }
        for node in configuration.voters where node != id {
            var request = Message(kind: kind, from: id, to: node, term: electionTerm)
            request.index = log.lastIndex
            request.logTerm = log.lastTerm
            request.leadershipTransfer = transfer
            send(request)
        }
    }

    func recordVote(from node: NodeID, granted: Bool) -> VoteResult {
        if votes[node] == nil { votes[node] = granted }
        return configuration.voteResult(votes)
    }

    func electionWon() {
        if role == .preCandidate {
            becomeCandidate()
            requestVotes(kind: .requestVote, term: term, transfer: false)
        } else {
            becomeLeader()
            broadcastAppend()
        }
    }

    /// A vote or pre-vote request from a candidate whose term is not below ours (§5.2, §5.4.1).
    func handleVoteRequest(_ message: Message) {
        let isPreVote = message.kind == .requestPreVote
        let canVote = vote == message.from
            || (vote == .none && leader == .none)
            || (isPreVote && message.term > term)
        var response = Message(kind: message.kind.responseToVoteRequest, from: id,
                               to: message.from, term: term)
        if canVote && log.isUpToDate(lastIndex: message.index, lastTerm: message.logTerm) {
            // A granted pre-vote answers in the proposed term so the pre-candidate can
            // count it; a real vote is in our (now equal) term.
            response.term = message.term
            if !isPreVote {
                electionElapsedTicks = 0
                vote = message.from
            }
        } else {
            response.reject = true
        }
        send(response)
    }

    func handleVoteResponse(_ message: Message) {
        let expected: MessageKind = role == .preCandidate ? .requestPreVoteResponse : .requestVoteResponse
        guard message.kind == expected else { return }
        switch recordVote(from: message.from, granted: !message.reject) {
        case .won: electionWon()
        case .lost: becomeFollower(term: term, leader: .none)
        case .pending: break
        }
    }
}
