import CartRaft
import CartTypes

/// One deterministic run of a Raft group under random faults, driven by a single seed.
///
/// A run has two phases. In the **safety phase** the network drops, duplicates, delays
/// and reorders messages, partitions heal and reappear, nodes crash (sometimes in the
/// middle of a write) and restart, clients propose, read and move leadership. In the
/// **liveness phase** faults stop and every node is up: a leader must emerge and every
/// acknowledged proposal must be applied on every node within `livenessTicksMax`.
/// The safety properties are checked on every step of both phases.
public final class Simulation {
    public let seed: UInt64
    public let options: SimulationOptions
    /// When on, events are kept for the failure report (slower; used for replays).
    public var tracing = false

    var random: SplitMix64
    var network = SimNetwork()
    var nodes: [SimNode]
    var checker = SafetyChecker()
    var report: SimulationReport
    var now = 0
    var trace: [String] = []
    static let traceEventsMax = 200

    /// Proposals made on a leader, by id: who proposed and where the entry should land.
    var proposals: [UInt64: (node: NodeID, index: LogIndex, term: Term)] = [:]
    var acknowledged: Set<UInt64> = []
    var nextProposalID: UInt64 = 1
    /// ReadIndex requests in flight, by context: the committed index when they were made.
    var reads: [[UInt8]: LogIndex] = [:]
    var nextReadID: UInt64 = 1

    /// A run whose fault mix is also drawn from `seed`.
    public convenience init(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        self.init(seed: seed, options: .derived(from: &random))
    }

    public init(seed: UInt64, options: SimulationOptions) {
        self.seed = seed
        self.options = options
        random = SplitMix64(seed: seed ^ 0x5EED_5EED_5EED_5EED)
        report = SimulationReport(seed: seed)
        let ids = (1...options.nodeCount).map { NodeID(UInt64($0)) }
        let configuration = Configuration(voters: ids)
        nodes = ids.map { SimNode(id: $0, configuration: configuration) }
        for position in nodes.indices { nodes[position].defect = options.storageDefect }
        network.dropProbability = options.dropProbability
        network.duplicateProbability = options.duplicateProbability
        network.deliveryDelayTicksMax = options.deliveryDelayTicksMax
        for position in nodes.indices { start(position) }
    }

    /// Runs both phases. Throws the first violated property, with the seed.
    public func run() throws(SimulationFailure) -> SimulationReport {
        do {
            for _ in 0..<options.safetyTicks {
                try injectFaults()
                try injectClientRequests()
                try step()
            }
            try runLivenessPhase()
        } catch let violation {
            var failure = SimulationFailure(seed: seed, tick: now, reason: violation.reason)
            failure.trace = trace
            throw failure
        }
        report.ticks = now
        report.committedEntries = Int(checker.committedIndexMax.rawValue)
        report.acknowledgedProposals = acknowledged.count
        report.elections = checker.elections
        return report
    }

    // MARK: Phases

    private func runLivenessPhase() throws(SafetyChecker.Violation) {
        note("liveness phase: faults stop, every node restarts")
        network.stopFaults()
        for position in nodes.indices {
            nodes[position].tornWriteArmed = false
            if !nodes[position].isUp { start(position) }
        }
        var finalProposal: UInt64?
        for _ in 0..<options.livenessTicksMax {
            try step()
            guard let leader = nodes.first(where: { $0.raft?.currentRole == .leader })?.raft else { continue }
            if finalProposal == nil {
                // One more proposal proves the new leader can commit, and commits with it
                // whatever earlier leaders left uncommitted.
                finalProposal = try propose(on: leader)
                continue
            }
            guard let id = finalProposal, let proposal = proposals[id],
                  proposal.node == leader.id, proposal.term == leader.currentTerm else {
                // Refused, or its leader was deposed before committing it: a client
                // would time out and try the new leader.
                finalProposal = nil
                continue
            }
            if acknowledged.contains(id), try isConverged() { return }
        }
        throw SafetyChecker.Violation(reason: "liveness: no convergence within \(options.livenessTicksMax) "
            + "ticks of the liveness phase (acknowledged \(acknowledged.count), committed "
            + "\(checker.committedIndexMax); nodes: \(nodeSummary))")
    }

    private var nodeSummary: String {
        nodes.map { node in
            guard let raft = node.raft else { return "\(node.id) down" }
            return "\(node.id) \(raft.currentRole) \(raft.currentTerm) applied \(raft.appliedIndex)"
        }.joined(separator: ", ")
    }

    /// Every node has applied everything committed, and every acknowledged proposal.
    private func isConverged() throws(SafetyChecker.Violation) -> Bool {
        for node in nodes {
            guard let raft = node.raft, raft.appliedIndex == checker.committedIndexMax,
                  node.stateMachine.appliedIndex == checker.committedIndexMax else { return false }
        }
        for node in nodes {
            let missing = acknowledged.subtracting(node.stateMachine.proposalIDs)
            guard missing.isEmpty else {
                throw SafetyChecker.Violation(reason: "durability: \(node.id) applied everything committed but "
                    + "lacks acknowledged proposals \(missing.sorted().prefix(5))")
            }
        }
        return true
    }

    // MARK: One tick

    /// Ticks every live node, then delivers the messages that are due.
    func step() throws(SafetyChecker.Violation) {
        now += 1
        for position in nodes.indices where nodes[position].isUp {
            nodes[position].raft!.tick()
            try processReadies(position)
        }
        let (due, lost) = network.takeDue(now: now, random: &random)
        for message in lost where message.kind == .snapshot {
            nodes[Int(message.from.rawValue) - 1].raft?.reportSnapshot(to: message.to, succeeded: false)
        }
        for message in due {
            let position = Int(message.to.rawValue) - 1
            guard let raft = nodes[position].raft else {
                if message.kind == .snapshot {
                    nodes[Int(message.from.rawValue) - 1].raft?.reportSnapshot(to: message.to, succeeded: false)
                }
                continue
            }
            report.messagesDelivered += 1
            if message.kind == .snapshot {
                // The transport saw the snapshot arrive; tell the sender (contract step 3).
                nodes[Int(message.from.rawValue) - 1].raft?.reportSnapshot(to: message.to, succeeded: true)
            }
            if tracing && !Self.isRoutine(message) { note("deliver \(message)") }
            do {
                try raft.step(message)
            } catch {
                throw SafetyChecker.Violation(reason: "\(message.to) rejected a peer's message: \(error)")
            }
            try processReadies(position)
        }
        for node in nodes {
            if let raft = node.raft, raft.currentRole == .leader {
                try checker.observeLeader(node.id, term: raft.currentTerm)
            }
        }
    }

    /// Plain heartbeats would drown the trace.
    static func isRoutine(_ message: Message) -> Bool {
        (message.kind == .heartbeat || message.kind == .heartbeatResponse) && message.context.isEmpty
    }

    func note(_ event: @autoclosure () -> String) {
        guard tracing else { return }
        trace.append("[\(now)] \(event())")
        if trace.count > Self.traceEventsMax { trace.removeFirst(trace.count - Self.traceEventsMax) }
    }
}

extension Simulation {
    /// The recorded events, one per line (empty unless `tracing`).
    public var traceText: String { trace.joined(separator: "\n") }
}
