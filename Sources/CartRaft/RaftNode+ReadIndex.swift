import CartTypes

/// Linearizable reads without writing to the log (thesis §6.4).
extension RaftNode {
    /// Asks for a read index. The answer arrives as a `ReadState` with the same `context`
    /// in a later `Ready`: once the state machine has applied its index, reading it is
    /// linearizable. A follower forwards the request to its leader; with no known leader
    /// this throws `notLeader`. Contexts should be unique among pending requests.
    public func readIndex(context: [UInt8]) throws(RaftError) {
        switch role {
        case .leader:
            guard readOnly.count + readsAwaitingFirstCommit.count < options.readIndexPendingMax else {
                throw .readIndexDropped
            }
            handleReadIndexRequest(context: context, requester: id)
        default:
            guard leader != .none else { throw .notLeader(leaderHint: .none) }
            var request = Message(kind: .readIndex, from: id, to: leader, term: term)
            request.context = context
            send(request)
        }
    }

    func handleReadIndexRequest(context: [UInt8], requester: NodeID) {
        if configuration.voters == [id] {
            // A one-node group is its own majority.
            answerRead(ReadState(index: log.committed, context: context), requester: requester)
            return
        }
        guard committedEntryInCurrentTerm else {
            // Step 1 of §6.4: until an entry of our term commits, our commit index may be
            // behind the previous leader's. Park the request (bounded) until then.
            guard readsAwaitingFirstCommit.count < options.readIndexPendingMax else { return }
            readsAwaitingFirstCommit.append((context, requester))
            return
        }
        guard readOnly.count < options.readIndexPendingMax else { return }
        // Steps 2–3: record the commit index, then confirm leadership with a heartbeat round.
        readOnly.add(index: log.committed, context: context, requester: requester)
        handleReadIndexAcknowledgement(context: context, from: id)
        broadcastHeartbeat(context: context)
    }

    var committedEntryInCurrentTerm: Bool {
        log.term(at: log.committed) == term
    }

    func releaseReadsAwaitingFirstCommit() {
        guard !readsAwaitingFirstCommit.isEmpty, committedEntryInCurrentTerm else { return }
        let parked = readsAwaitingFirstCommit
        readsAwaitingFirstCommit.removeAll()
        for read in parked {
            handleReadIndexRequest(context: read.context, requester: read.requester)
        }
    }

    func handleReadIndexAcknowledgement(context: [UInt8], from node: NodeID) {
        for read in readOnly.acknowledge(context, from: node, configuration: configuration) {
            answerRead(ReadState(index: read.index, context: read.context), requester: read.requester)
        }
    }

    private func answerRead(_ state: ReadState, requester: NodeID) {
        if requester == id {
            readStates.append(state)
        } else {
            var response = Message(kind: .readIndexResponse, from: id, to: requester, term: term)
            response.index = state.index
            response.context = state.context
            send(response)
        }
    }
}
