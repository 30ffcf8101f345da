import CartRaft
import CartTypes

/// What happens to the group during the safety phase: faults and client traffic.
extension Simulation {
    func start(_ position: Int) {
        let id = nodes[position].id
        nodes[position].start(options: options.raftOptions(for: id), random: random.split())
        note("\(id) started")
    }

    func injectFaults() throws(SafetyChecker.Violation) {
        let upNodes = nodes.indices.filter { nodes[$0].isUp }
        let downNodes = nodes.indices.filter { !nodes[$0].isUp }
        if random.chance(options.crashProbability), let victim = random.pick(upNodes) {
            if random.chance(options.tornWriteProbability) {
                nodes[victim].tornWriteArmed = true
                note("\(nodes[victim].id) will crash during its next write")
            } else {
                nodes[victim].crash(random: &random)
                report.crashes += 1
                note("\(nodes[victim].id) crashed")
            }
        }
        if random.chance(options.rebootProbability), let victim = random.pick(upNodes) {
            nodes[victim].crash(random: &random)
            report.crashes += 1
            note("\(nodes[victim].id) rebooted")
            start(victim)
            try processReadies(victim)
        }
        if random.chance(options.restartProbability), let revived = random.pick(downNodes) {
            start(revived)
            try processReadies(revived)
        }
        if random.chance(options.partitionProbability) { partitionRandomly() }
        if network.isPartitioned && random.chance(options.healProbability) {
            network.heal()
            note("network healed")
        }
    }

    private func partitionRandomly() {
        let ids = nodes.map(\.id)
        switch random.next() % 3 {
        case 0:
            // Symmetric split into two random sides.
            let side = ids.filter { _ in random.chance(0.5) }
            network.partition(side, from: ids.filter { !side.contains($0) })
            note("partition \(side) | rest")
        case 1:
            // One-way: messages from one node to another are lost, the reverse arrive.
            if let from = random.pick(ids), let to = random.pick(ids.filter { $0 != from }) {
                network.block(from: from, to: to)
                note("one-way cut \(from) -> \(to)")
            }
        default:
            if let isolated = random.pick(ids) {
                network.partition([isolated], from: ids.filter { $0 != isolated })
                note("isolated \(isolated)")
            }
        }
    }

    func injectClientRequests() throws(SafetyChecker.Violation) {
        let upNodes = nodes.indices.filter { nodes[$0].isUp }
        if random.chance(options.proposeProbability), let target = random.pick(upNodes) {
            try proposeOrExpectRedirect(on: target)
        }
        if random.chance(options.readIndexProbability), let target = random.pick(upNodes) {
            requestRead(on: target)
            try processReadies(target)
        }
        if random.chance(options.transferProbability), let target = random.pick(upNodes),
           let raft = nodes[target].raft, raft.currentRole == .leader,
           let successor = random.pick(nodes.map(\.id).filter { $0 != raft.id }) {
            try? raft.transferLeadership(to: successor)
            note("\(raft.id) transfers leadership to \(successor)")
            try processReadies(target)
        }
    }

    private func proposeOrExpectRedirect(on position: Int) throws(SafetyChecker.Violation) {
        guard let raft = nodes[position].raft else { return }
        if raft.currentRole == .leader {
            _ = try propose(on: raft)
        } else {
            do throws(RaftError) {
                try raft.propose([0])
            } catch .notLeader(let hint) where hint != raft.id {
                return
            } catch {
                throw SafetyChecker.Violation(reason: "a \(raft.currentRole) rejected a proposal with \(error)")
            }
            throw SafetyChecker.Violation(reason: "\(raft.id) accepted a proposal as \(raft.currentRole)")
        }
        try processReadies(position)
    }

    /// Proposes a fresh unique payload on `raft` (a leader). Returns its id, or nil if the
    /// leader refused it (for example during a leadership transfer).
    @discardableResult
    func propose(on raft: RaftNode) throws(SafetyChecker.Violation) -> UInt64? {
        let id = nextProposalID
        nextProposalID += 1
        let payload = SimPayload.make(id: id, fillerBytes: Int(random.next() % 64))
        let ticket: (index: LogIndex, term: Term)
        do throws(RaftError) {
            ticket = try raft.propose(payload)
        } catch .transferInProgress, .proposalDropped {
            return nil
        } catch {
            throw SafetyChecker.Violation(reason: "leader \(raft.id) rejected a proposal with \(error)")
        }
        proposals[id] = (raft.id, ticket.index, ticket.term)
        note("\(raft.id) accepted proposal \(id) at \(ticket.index) \(ticket.term)")
        try processReadies(Int(raft.id.rawValue) - 1)
        return id
    }

    private func requestRead(on position: Int) {
        guard let raft = nodes[position].raft else { return }
        let context = withUnsafeBytes(of: nextReadID.bigEndian) { Array($0) }
        nextReadID += 1
        if (try? raft.readIndex(context: context)) != nil {
            reads[context] = checker.committedIndexMax
        }
    }
}
