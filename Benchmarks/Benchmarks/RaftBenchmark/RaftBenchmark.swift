import Benchmark
import CartRaft
import CartRaftSimulation
import CartTypes

// CPU cost per committed entry of the pure Raft core: three nodes in one process, messages
// handed over at once (no network, no disk), every node following the Ready contract
// against in-memory storage. One benchmark iteration is one proposal; the group delivers
// after every `proposalsPerRound` proposals, so larger rounds show the effect of batching.
// The custom metric counts Raft messages sent per 100 committed entries.

let payload = [UInt8](repeating: 0xAB, count: 100)
let compactEveryEntries = 10_000

func commitBenchmark(proposalsPerRound: Int) -> (Benchmark) -> Void {
    { benchmark in
        let cluster = LocalCluster(voters: [1, 2, 3])
        cluster.recordsMessages = false
        cluster.campaign(1)
        let leader = cluster[1]
        let firstIndex = leader.commitIndex
        let messagesBefore = cluster.messagesSentCount
        benchmark.startMeasurement()
        for iteration in benchmark.scaledIterations {
            do {
                try leader.propose(payload)
            } catch {
                benchmark.error("proposal refused: \(error)")
                return
            }
            if (iteration + 1) % proposalsPerRound == 0 { cluster.deliverAll() }
            if (iteration + 1) % compactEveryEntries == 0 {
                for node: NodeID in [1, 2, 3] { cluster.compact(node) }
            }
        }
        cluster.deliverAll()
        benchmark.stopMeasurement()
        let committed = Int(leader.commitIndex.rawValue - firstIndex.rawValue)
        guard committed == benchmark.scaledIterations.count else {
            benchmark.error("committed \(committed) of \(benchmark.scaledIterations.count) proposals")
            return
        }
        let messages = cluster.messagesSentCount - messagesBefore
        benchmark.measurement(.custom("messages per 100 entries", useScalingFactor: false),
                              messages * 100 / committed)
    }
}

let benchmarks: @Sendable () -> Void = {
    let metrics: [BenchmarkMetric] = [
        .cpuTotal, .wallClock, .throughput, .mallocCountTotal,
        .custom("messages per 100 entries", useScalingFactor: false),
    ]
    let configuration = Benchmark.Configuration(metrics: metrics, scalingFactor: .kilo,
                                                maxDuration: .seconds(5), maxIterations: 50)
    Benchmark("Raft.commit 3 nodes, 1 proposal per round", configuration: configuration,
              closure: commitBenchmark(proposalsPerRound: 1))
    Benchmark("Raft.commit 3 nodes, 64 proposals per round", configuration: configuration,
              closure: commitBenchmark(proposalsPerRound: 64))
}
