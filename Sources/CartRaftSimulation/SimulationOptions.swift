import CartRaft
import CartTypes

/// The shape of one simulated run. `derived(from:)` draws a different mix of faults for
/// every seed ("swarm testing"), so that a sweep covers calm runs, lossy runs, crash-heavy
/// runs and so on, instead of one average.
public struct SimulationOptions: Sendable, CustomStringConvertible {
    public var nodeCount = 3
    /// Ticks of the safety phase (random faults).
    public var safetyTicks = 300
    /// Most ticks the liveness phase may take before the run fails.
    public var livenessTicksMax = 1_000

    // Network faults, as probabilities per message.
    public var dropProbability = 0.05
    public var duplicateProbability = 0.02
    /// Messages take 0...deliveryDelayTicksMax ticks; different delays reorder them.
    public var deliveryDelayTicksMax = 2

    // Per-tick event probabilities during the safety phase.
    public var proposeProbability = 0.4
    public var readIndexProbability = 0.1
    public var transferProbability = 0.005
    public var crashProbability = 0.005
    /// Share of crashes that hit while a Ready is half-persisted (a torn write).
    public var tornWriteProbability = 0.3
    public var restartProbability = 0.05
    /// A crash followed by an immediate restart: finds state that should have been
    /// persisted but was not, while the rest of the group is still in the same term.
    public var rebootProbability = 0.01
    public var partitionProbability = 0.01
    public var healProbability = 0.03

    /// Asynchronous writes in the pattern of the node's Ready loop: 0 persists each Ready
    /// before taking the next (the contract's plain form); n > 0 lets up to n Readies be
    /// written and advanced before they are durable. A Ready's sync completes
    /// 0...`syncDelayTicksMax` ticks later, in order; only then are its messages sent and its
    /// entries applied (heartbeats and ReadIndex messages leave at once). A crash keeps the
    /// synced writes and any prefix of the unsynced Readies. Whole Readies become durable:
    /// the node's own finer bookkeeping (truncations and snapshot installs durable at once,
    /// a new term or vote saved before its Ready's entries are written) is not modelled.
    public var asyncWritesMax = 0
    public var syncDelayTicksMax = 2
    /// `RaftOptions.leaderSendsBeforeDurable`: leaders send their appends before their own
    /// write (a torn write or a crash may then lose entries only the followers hold), and
    /// count themselves only for entries reported durable after the write or the sync.
    public var leaderSendsBeforeDurable = false

    /// A deliberately broken storage, to show that the checks catch what it breaks.
    public var storageDefect: StorageDefect? = nil

    /// A node compacts its log once it has applied this many entries past its snapshot.
    public var compactAfterEntries = 20

    // Raft options the sweep also varies.
    public var electionTimeoutTicks = 10
    public var heartbeatIntervalTicks = 2
    public var entriesPerAppendMax = 4
    public var inflightAppendsMax = 4
    public var preVote = true
    public var checkQuorum = true

    public init() {}

    public enum StorageDefect: Sendable {
        /// Persists term and commit but not the vote: after a reboot the node may vote
        /// twice in one term.
        case forgetsVotes
        /// With asynchronous writes: answers appends as soon as the entries are written, not
        /// once they are synced. A crash then loses entries a leader counted as replicated.
        case acknowledgesBeforeSync
        /// With asynchronous writes and `leaderSendsBeforeDurable`: reports a Ready's entries
        /// durable as soon as they are written, not once they are synced. A leader then counts
        /// itself for entries a crash can still lose.
        case reportsPersistedBeforeSync
    }

    public static func derived(from random: inout SplitMix64) -> SimulationOptions {
        var options = SimulationOptions()
        options.nodeCount = [3, 3, 5][Int(random.next() % 3)]
        options.dropProbability = Double.random(in: 0...0.25, using: &random)
        options.duplicateProbability = Double.random(in: 0...0.1, using: &random)
        options.deliveryDelayTicksMax = Int.random(in: 0...4, using: &random)
        options.proposeProbability = Double.random(in: 0.1...0.8, using: &random)
        options.crashProbability = Double.random(in: 0...0.02, using: &random)
        options.partitionProbability = Double.random(in: 0...0.03, using: &random)
        options.rebootProbability = Double.random(in: 0...0.05, using: &random)
        options.compactAfterEntries = [5, 20, 100_000][Int(random.next() % 3)]
        options.heartbeatIntervalTicks = Int.random(in: 1...3, using: &random)
        options.entriesPerAppendMax = Int.random(in: 1...8, using: &random)
        options.inflightAppendsMax = Int.random(in: 1...4, using: &random)
        options.preVote = random.next() % 4 != 0
        options.checkQuorum = random.next() % 4 != 0
        // Drawn last, so that the options above stay what they were for every seed.
        options.asyncWritesMax = [0, 0, 1, 4, 8][Int(random.next() % 5)]
        options.syncDelayTicksMax = Int.random(in: 0...4, using: &random)
        options.leaderSendsBeforeDurable = random.next() % 2 == 0
        return options
    }

    func raftOptions(for id: NodeID) -> RaftOptions {
        var options = RaftOptions(id: id)
        options.electionTimeoutTicks = electionTimeoutTicks
        options.heartbeatIntervalTicks = heartbeatIntervalTicks
        options.entriesPerAppendMax = entriesPerAppendMax
        options.inflightAppendsMax = inflightAppendsMax
        options.preVote = preVote
        options.checkQuorum = checkQuorum
        options.leaderSendsBeforeDurable = leaderSendsBeforeDurable
        return options
    }

    public var description: String {
        "nodes=\(nodeCount) drop=\(percent(dropProbability)) dup=\(percent(duplicateProbability)) "
            + "delay≤\(deliveryDelayTicksMax) propose=\(percent(proposeProbability)) "
            + "crash=\(percent(crashProbability)) reboot=\(percent(rebootProbability)) partition=\(percent(partitionProbability)) "
            + "compactAfter=\(compactAfterEntries) heartbeat=\(heartbeatIntervalTicks) "
            + "batch=\(entriesPerAppendMax) inflight=\(inflightAppendsMax) "
            + "preVote=\(preVote) checkQuorum=\(checkQuorum)"
            + (asyncWritesMax > 0 ? " asyncWrites≤\(asyncWritesMax) syncDelay≤\(syncDelayTicksMax)" : "")
            + (leaderSendsBeforeDurable ? " leaderSendsBeforeDurable" : "")
    }

    private func percent(_ probability: Double) -> String {
        "\(Int((probability * 100).rounded()))%"
    }
}
