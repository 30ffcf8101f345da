import CartClient
import CartRaft
import CartTypes
import Foundation

/// Runs `cartload carts`: prepares users, items and carts, then drives the chosen mix in a
/// closed loop (`concurrency` workers back to back) or an open loop (`ratePerSecond`, with
/// latency counted from each operation's intended start so a stalled cluster is not hidden),
/// printing a progress line each second. Closed-loop workers are chains of callbacks on the
/// clients' event loops (`ClosedLoopWorker`), open-loop operations tasks on those loops
/// (`EventLoopTaskExecutor`): both leave more of a shared machine's CPU to the cluster.
public enum CartLoadRunner {
    /// Carts created at once while preparing.
    static let setupConcurrency = 32

    public static func run(_ options: CartLoadOptions) async throws -> CartLoadReport {
        if options.mode == .watchFanout { return try await WatchFanout.run(options) }
        if options.mode == .verify { return try await VerifyWorkload.run(options) }
        let users = try await LoadUsers.prepare(options)
        do {
            let slots = try await makeCarts(options, users)
            let report = await drive(options, users, slots)
            await users.shutdown()
            return report
        } catch {
            await users.shutdown()
            throw error
        }
    }

    static func makeCarts(_ options: CartLoadOptions, _ users: LoadUsers) async throws -> CartSlots {
        let count = options.carts
        let userCount = users.names.count
        let slots = try await withThrowingTaskGroup(of: CartSlots.Slot.self) { group in
            var made: [CartSlots.Slot] = []
            for index in 0..<count {
                if index >= setupConcurrency, let slot = try await group.next() { made.append(slot) }
                group.addTask {
                    let owner = index % userCount, shared = (index + 1) % userCount
                    let reply = try await users.clients[owner].createCart()
                    if shared != owner { _ = try await users.clients[owner].share(reply.cart, with: [users.names[shared]]) }
                    return CartSlots.Slot(cart: reply.cart, owner: owner, sharedWith: shared)
                }
            }
            for try await slot in group { made.append(slot) }
            return made
        }
        return CartSlots(slots)
    }

    static func drive(_ options: CartLoadOptions, _ users: LoadUsers, _ slots: CartSlots) async -> CartLoadReport {
        await measure(options, retries: { users.retries }) { meter, start, end in
            if let rate = options.ratePerSecond {
                await openLoop(options, users, slots, meter, rate: rate, start: start, end: end)
            } else {
                await closedLoop(options, users, slots, meter, end: end)
            }
        }
    }

    /// The measured part of a run: `body` runs from now until `end` (after the warm-up and
    /// the measured duration), recording into `meter`, with the progress line each second;
    /// then the report of what was measured and of the retries `retries` counted meanwhile.
    static func measure(_ options: CartLoadOptions, retries: @escaping @Sendable () -> UInt64,
                        _ body: (_ meter: LoadMeter, _ start: UInt64, _ end: UInt64) async -> Void) async -> CartLoadReport {
        let start = LoadMeter.nowNanos()
        let measureStart = start + UInt64(options.warmupSeconds * 1e9)
        let end = measureStart + UInt64(options.durationSeconds * 1e9)
        let meter = LoadMeter(measureStartNanos: measureStart, measureEndNanos: end)
        let retriesBefore = retries()
        let progress = options.progress
            ? Task { await ProgressLine.run(meter, startNanos: start, endNanos: end, retries: retries) } : nil
        await body(meter, start, end)
        progress?.cancel()
        let state = meter.snapshot
        var report = CartLoadReport(mode: options.mode.rawValue, stats: state.total, byOperation: state.byOperation,
                                    errorsByCode: state.errorsByCode, seconds: Double(end - measureStart) / 1e9)
        report.refused = state.refused
        report.retries = retries() - retriesBefore
        return report
    }

    static func closedLoop(_ options: CartLoadOptions, _ users: LoadUsers, _ slots: CartSlots, _ meter: LoadMeter,
                           end: UInt64) async {
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<options.concurrency {
                let worker = ClosedLoopWorker(options.mode, users, slots, meter, endNanos: end,
                                              seed: UInt64.random(in: .min ... .max))
                group.addTask { await worker.run() }
            }
        }
    }

    static func openLoop(_ options: CartLoadOptions, _ users: LoadUsers, _ slots: CartSlots, _ meter: LoadMeter,
                         rate: Double, start: UInt64, end: UInt64) async {
        let intervalNanos = max(1, UInt64(1e9 / rate))
        let executors = EventLoopTaskExecutor.forEachLoop(of: LoadLoops.group)
        var next = 0
        var seeds = SplitMix64(seed: UInt64.random(in: .min ... .max))
        await withTaskGroup(of: Void.self) { group in
            var inflight = 0
            var intended = start
            while intended < end {
                let now = LoadMeter.nowNanos()
                if intended > now { try? await Task.sleep(nanoseconds: intended - now) }
                if inflight >= options.concurrency {
                    // Due operations wait here; their latency still counts from `intended`.
                    await group.next()
                    inflight -= 1
                    continue
                }
                let startNanos = intended
                let seed = seeds.next()
                next = (next + 1) % executors.count
                group.addTask(executorPreference: executors[next]) {
                    var random = SplitMix64(seed: seed)
                    await once(options.mode, users, slots, meter, startNanos: startNanos, using: &random)
                }
                inflight += 1
                intended += intervalNanos
            }
        }
    }

    static func once(_ mode: CartLoadOptions.Mode, _ users: LoadUsers, _ slots: CartSlots, _ meter: LoadMeter,
                     startNanos: UInt64, using random: inout some RandomNumberGenerator) async {
        let operation = CartOperation.pick(mode, using: &random)
        do {
            let ran = try await operation.run(users, slots, using: &random)
            meter.record(ran.rawValue, startNanos: startNanos, error: nil)
        } catch {
            meter.record(operation.rawValue, startNanos: startNanos, error: error.code)
        }
    }
}

/// `t=3s  4115 ops/s  p99 4.2 ms  max 7.9 ms  errors 0  refused 120  retried 0`, once a second
/// on stderr: errors are failures (unavailable, timeouts, …); refusals are the domain's answers
/// a random mix is bound to get (removing a line that is not there, checking out an empty
/// cart, …); retried counts attempts the clients sent again after a failed one (a failover
/// shows here while its operations still succeed).
enum ProgressLine {
    static func run(_ meter: LoadMeter, startNanos: UInt64, endNanos: UInt64, retries: @escaping @Sendable () -> UInt64) async {
        var second = 0
        var retriesBefore = retries()
        while !Task.isCancelled && LoadMeter.nowNanos() < endNanos {
            try? await Task.sleep(for: .seconds(1))
            second += 1
            let (ops, errors, refused, p99, max) = meter.takeSecond()
            let retriesNow = retries()
            defer { retriesBefore = retriesNow }
            let latency = [("p99", p99), ("max", max)]
                .map { name, micros in micros.map { "\(name) \(CartLoadReport.format($0 / 1_000)) ms" } ?? "\(name) -" }
                .joined(separator: "  ")
            FileHandle.standardError.write(Data(("t=\(second)s  \(ops) ops/s  \(latency)  errors \(errors)  refused \(refused)"
                + "  retried \(retriesNow - retriesBefore)\n").utf8))
        }
    }
}
