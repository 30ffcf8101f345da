/// A violated invariant (or a liveness timeout) in a simulated run. Rerunning the same
/// seed replays the run exactly; `trace` holds the last events when tracing was on.
public struct SimulationFailure: Error, CustomStringConvertible, Sendable {
    public let seed: UInt64
    public let tick: Int
    public let reason: String
    public var trace: [String] = []

    public init(seed: UInt64, tick: Int, reason: String) {
        self.seed = seed
        self.tick = tick
        self.reason = reason
    }

    public var description: String {
        var text = "simulation failed: seed \(seed), tick \(tick): \(reason)"
        if !trace.isEmpty { text += "\nlast events:\n" + trace.joined(separator: "\n") }
        text += "\nreplay: swift run -c release raft-sim --seed \(seed) --trace"
        return text
    }
}

/// What a successful run did, for sweep statistics.
public struct SimulationReport: Sendable {
    public var seed: UInt64
    public var ticks = 0
    public var committedEntries = 0
    public var acknowledgedProposals = 0
    public var elections = 0
    public var crashes = 0
    public var snapshotsInstalled = 0
    public var readsAnswered = 0
    public var messagesDelivered = 0

    public init(seed: UInt64) {
        self.seed = seed
    }
}
