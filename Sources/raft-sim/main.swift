// Runs the deterministic Raft simulator over a range of seeds.
//
//   raft-sim [--seeds N] [--from S]     run seeds S ..< S+N (defaults: 1000 seeds from 1)
//   raft-sim --seed S [--trace]         run one seed; --trace prints its events
//
// Exits 1 on the first failing seed, after printing the seed, the violated property, the
// last events of a traced replay and the command to replay it.
import CartRaftSimulation
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

struct Arguments {
    var seeds = 1000
    var from: UInt64 = 1
    var single: UInt64?
    var trace = false
}

func parseArguments() -> Arguments {
    var arguments = Arguments()
    var remaining = CommandLine.arguments.dropFirst()
    while let flag = remaining.popFirst() {
        switch flag {
        case "--seeds": arguments.seeds = number(remaining.popFirst())
        case "--from": arguments.from = UInt64(number(remaining.popFirst()))
        case "--seed": arguments.single = UInt64(number(remaining.popFirst()))
        case "--trace": arguments.trace = true
        default: usage()
        }
    }
    return arguments
}

func number(_ text: String?) -> Int {
    guard let text, let value = Int(text), value >= 0 else { usage() }
    return value
}

func usage() -> Never {
    print("usage: raft-sim [--seeds N] [--from S] | --seed S [--trace]")
    exit(2)
}

let arguments = parseArguments()
let clock = ContinuousClock()
let started = clock.now
if let seed = arguments.single {
    let simulation = Simulation(seed: seed)
    simulation.tracing = arguments.trace
    print("seed \(seed): \(simulation.options)")
    do {
        let report = try simulation.run()
        if arguments.trace { print(simulation.traceText) }
        print("ok: \(report.ticks) ticks, \(report.committedEntries) committed, "
            + "\(report.acknowledgedProposals) acknowledged, \(report.elections) elections, "
            + "\(report.crashes) crashes")
    } catch {
        print(error)
        exit(1)
    }
} else {
    do {
        let summary = try SeedSweep.run(from: arguments.from, count: arguments.seeds)
        let elapsed = clock.now - started
        print("raft-sim: \(summary.seeds) seeds from \(arguments.from) passed in \(elapsed): "
            + "\(summary.ticks) ticks, \(summary.committedEntries) entries committed, "
            + "\(summary.acknowledgedProposals) proposals acknowledged, \(summary.elections) elections, "
            + "\(summary.crashes) crashes, \(summary.snapshotsInstalled) snapshots installed, "
            + "\(summary.readsAnswered) reads answered, \(summary.messagesDelivered) messages delivered")
    } catch {
        print(error)
        exit(1)
    }
}
