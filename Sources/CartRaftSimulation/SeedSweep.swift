/// Runs many seeds; on the first failure, replays that seed with tracing on so the report
/// shows the events that led to it.
public enum SeedSweep {
    public struct Summary: Sendable {
        public var seeds = 0
        public var ticks = 0
        public var committedEntries = 0
        public var acknowledgedProposals = 0
        public var elections = 0
        public var crashes = 0
        public var snapshotsInstalled = 0
        public var readsAnswered = 0
        public var messagesDelivered = 0

        mutating func add(_ report: SimulationReport) {
            seeds += 1
            ticks += report.ticks
            committedEntries += report.committedEntries
            acknowledgedProposals += report.acknowledgedProposals
            elections += report.elections
            crashes += report.crashes
            snapshotsInstalled += report.snapshotsInstalled
            readsAnswered += report.readsAnswered
            messagesDelivered += report.messagesDelivered
        }
    }

    /// Runs seeds `first ..< first + count`. Throws the first failure, traced.
    public static func run(from first: UInt64, count: Int) throws(SimulationFailure) -> Summary {
        var summary = Summary()
        for seed in first..<first + UInt64(count) {
            do {
                summary.add(try Simulation(seed: seed).run())
            } catch {
                throw replayWithTrace(error)
            }
        }
        return summary
    }

    /// The same seed again with tracing; the replay must fail the same way.
    public static func replayWithTrace(_ failure: SimulationFailure) -> SimulationFailure {
        let replay = Simulation(seed: failure.seed)
        replay.tracing = true
        do {
            _ = try replay.run()
            return SimulationFailure(seed: failure.seed, tick: failure.tick,
                                     reason: failure.reason + " (NOT reproduced on replay: nondeterminism)")
        } catch {
            return error
        }
    }
}
