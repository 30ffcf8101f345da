import CartClient
import CartDomain
import CartTypes
import Foundation
import NIOConcurrencyHelpers

/// What `watch-fanout` measured: delivery latency of each change to each watcher, and
/// whether every watcher received every change exactly once, in order.
public struct FanoutFigures: Sendable {
    public let watchers: Int
    /// Changes written and acknowledged while measuring.
    public let changes: Int
    /// Seqs every watcher had to receive (from its start seq to the last acknowledged one).
    public let seqsExpected: Int
    /// Watchers whose received seqs were exactly the expected ones, each once, ascending.
    public let watchersComplete: Int
    /// Latency from the writer's acknowledgement to the watcher's receipt (0 when the
    /// event arrived before the ack); `beforeAck` counts those.
    public let fromAck: LatencyStats
    /// Latency from the moment the writer sent the change: an upper bound that includes
    /// replication and the fsync.
    public let fromSend: LatencyStats
    public let beforeAck: Int
    public let resumes: Int
    /// Why watchers ended early (empty when none did).
    public let watcherErrors: [String]

    public var everyEventOnceInOrder: Bool { watchersComplete == watchers && seqsExpected > 0 }

    var json: String {
        func number(_ value: Double?) -> String { value.map(CartLoadReport.format) ?? "null" }
        return "{\"watchers\":\(watchers),\"changes\":\(changes),\"seqs_expected\":\(seqsExpected),"
            + "\"watchers_complete\":\(watchersComplete),\"every_event_once_in_order\":\(everyEventOnceInOrder),"
            + "\"from_ack_p50_us\":\(number(fromAck.micros(atPercentile: 50))),\"from_ack_p99_us\":\(number(fromAck.micros(atPercentile: 99))),"
            + "\"from_ack_max_us\":\(number(fromAck.maxMicros)),"
            + "\"from_send_p50_us\":\(number(fromSend.micros(atPercentile: 50))),\"from_send_p99_us\":\(number(fromSend.micros(atPercentile: 99))),"
            + "\"before_ack\":\(beforeAck),\"resumes\":\(resumes),\"watcher_errors\":\(watcherErrors.count)}"
    }

    var summary: String {
        func ms(_ value: Double?) -> String { value.map { "\(CartLoadReport.format($0 / 1_000)) ms" } ?? "-" }
        return """
            fan-out    \(watchers) watchers × \(changes) changes: delivery after ack p50 \(ms(fromAck.micros(atPercentile: 50))) \
            p99 \(ms(fromAck.micros(atPercentile: 99))) max \(ms(fromAck.maxMicros)) (\(beforeAck) arrived before the ack); \
            from send p50 \(ms(fromSend.micros(atPercentile: 50))) p99 \(ms(fromSend.micros(atPercentile: 99)))
            order      \(watchersComplete)/\(watchers) watchers got seqs \(seqsExpected > 0 ? "all \(seqsExpected)" : "none") \
            exactly once, in order: \(everyEventOnceInOrder ? "yes" : "NO"); resumes \(resumes)\
            \(watcherErrors.isEmpty ? "" : "\nwatchers ended early: " + Set(watcherErrors).sorted().joined(separator: "; "))
            """
    }
}

/// `cartload carts --mode watch-fanout`: `watchers` watchers (each its own connections) on
/// one cart while a writer changes it `changesPerSecond` times a second.
enum WatchFanout {
    /// Longest wait for every watcher to catch up with the last change after writing stops.
    static let drainWaitMs: Int64 = 15_000
    /// Time given to the watch streams to open before the first write.
    static let watchOpenWaitMs: Int64 = 300
    /// Writes in flight at most (the open loop's cap).
    static let writesInflightMax = 64

    /// What one watcher received: seqs and receive times, in arrival order.
    final class Received: Sendable {
        let log = NIOLockedValueBox<(seqs: [UInt64], nanos: [UInt64])>(([], []))
        /// Why the watch ended early, if it did.
        let failure = NIOLockedValueBox<String?>(nil)
        func add(_ seq: Seq) {
            let now = LoadMeter.nowNanos()
            log.withLockedValue { $0.seqs.append(seq.rawValue); $0.nanos.append(now) }
        }
        var lastSeq: UInt64 { log.withLockedValue { $0.seqs.last ?? 0 } }
    }

    /// One acknowledged write: its seq and when it was sent and acknowledged.
    struct Write: Sendable {
        let seq: UInt64
        let sentNanos: UInt64
        let ackedNanos: UInt64
    }

    static func run(_ options: CartLoadOptions) async throws -> CartLoadReport {
        var options = options
        options.users = max(2, options.users)
        let users = try await LoadUsers.prepare(options)
        let watcherClients = try (0..<options.watchers).map { index in
            let user = users.names[1 + index % (users.names.count - 1)]
            return CartClient(configuration: LoadUsers.configuration(options, token: try LoadUsers.token(for: user, options.identity)))
        }
        defer {
            Task {
                for client in watcherClients { await client.shutdown() }
                await users.shutdown()
            }
        }
        let writer = users.clients[0]
        let cart = try await writer.createCart().cart
        _ = try await writer.share(cart, with: Array(users.names.dropFirst()))
        let item = users.items[0]
        let first = try await writer.addItem(cart, item: item, quantity: 1)
        let startSeq = Seq(first.seq.rawValue + 1)

        // Connect every watcher (TLS, hello, routing) before the writes start: a cart keeps
        // only its newest events, so a watch opened late could find its start seq gone.
        for client in watcherClients { _ = try await client.getCart(cart) }
        let received = (0..<options.watchers).map { _ in Received() }
        let counters = (0..<options.watchers).map { _ in WatchCounters() }
        let watchTasks = (0..<options.watchers).map { index in
            Task {
                do {
                    for try await event in watcherClients[index].watch(cart, fromSeq: startSeq, counters: counters[index]) {
                        received[index].add(event.seq)
                    }
                } catch {
                    received[index].failure.withLockedValue { $0 = "\(error)" }
                }
            }
        }
        try await Task.sleep(for: .milliseconds(Self.watchOpenWaitMs))
        let start = LoadMeter.nowNanos()
        let measureStart = start + UInt64(options.warmupSeconds * 1e9)
        let end = measureStart + UInt64(options.durationSeconds * 1e9)
        let meter = LoadMeter(measureStartNanos: measureStart, measureEndNanos: end)
        let progress = options.progress ? Task { await ProgressLine.run(meter, startNanos: start, endNanos: end) } : nil
        let writes = await writeChanges(writer, cart: cart, item: item, rate: options.changesPerSecond, meter: meter,
                                        start: start, end: end)
        progress?.cancel()

        let lastSeq = writes.map(\.seq).max() ?? first.seq.rawValue
        let drainDeadline = LoadMeter.nowNanos() + UInt64(drainWaitMs) * 1_000_000
        while received.contains(where: { $0.lastSeq < lastSeq }) && LoadMeter.nowNanos() < drainDeadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        for task in watchTasks { task.cancel() }
        for task in watchTasks { _ = await task.result }

        let figures = measure(writes: writes.filter { $0.sentNanos >= measureStart }, received: received,
                              startSeq: startSeq.rawValue, lastSeq: lastSeq, resumes: counters.map(\.resumes).reduce(0, +))
        let state = meter.snapshot
        var report = CartLoadReport(mode: options.mode.rawValue, stats: state.total, byOperation: state.byOperation,
                                    errorsByCode: state.errorsByCode, seconds: Double(end - measureStart) / 1e9)
        report.refused = state.refused
        report.fanout = figures
        return report
    }

    /// Writes a quantity change at `rate` per second (open loop, at most `writesInflightMax`
    /// in flight) and returns every acknowledged one.
    static func writeChanges(_ writer: CartClient, cart: CartID, item: ItemID, rate: Double, meter: LoadMeter,
                             start: UInt64, end: UInt64) async -> [Write] {
        let intervalNanos = max(1, UInt64(1e9 / rate))
        return await withTaskGroup(of: Write?.self) { group in
            var writes: [Write] = []
            var inflight = 0
            var intended = start
            var count: Int64 = 0
            while intended < end {
                let now = LoadMeter.nowNanos()
                if intended > now { try? await Task.sleep(nanoseconds: intended - now) }
                if inflight >= writesInflightMax {
                    if let write = await group.next(), let write { writes.append(write) }
                    inflight -= 1
                    continue
                }
                count += 1
                // Alternating quantities: every write changes the line, so each makes an event.
                let quantity = 1 + count % 9, sent = intended
                group.addTask {
                    do throws(CartClientError) {
                        let reply = try await writer.setQuantity(cart, item: item, quantity: quantity)
                        meter.record("set-qty", startNanos: sent, error: nil)
                        return Write(seq: reply.seq.rawValue, sentNanos: sent, ackedNanos: LoadMeter.nowNanos())
                    } catch {
                        meter.record("set-qty", startNanos: sent, error: error.code)
                        return nil
                    }
                }
                inflight += 1
                intended += intervalNanos
            }
            for await write in group { if let write { writes.append(write) } }
            return writes
        }
    }

    static func measure(writes: [Write], received: [Received], startSeq: UInt64, lastSeq: UInt64, resumes: Int) -> FanoutFigures {
        var fromAck = LatencyStats(), fromSend = LatencyStats()
        var beforeAck = 0, complete = 0
        let expected = lastSeq >= startSeq ? Array(startSeq...lastSeq) : []
        for watcher in received {
            let log = watcher.log.withLockedValue { $0 }
            if log.seqs == expected { complete += 1 }
            var arrival: [UInt64: UInt64] = [:]
            for (seq, nanos) in zip(log.seqs, log.nanos) { arrival[seq] = nanos }
            for write in writes {
                guard let at = arrival[write.seq] else { continue }
                if at < write.ackedNanos { beforeAck += 1 }
                fromAck.record(nanos: at > write.ackedNanos ? at - write.ackedNanos : 0)
                fromSend.record(nanos: at - min(at, write.sentNanos))
            }
        }
        return FanoutFigures(watchers: received.count, changes: writes.count, seqsExpected: expected.count,
                             watchersComplete: complete, fromAck: fromAck, fromSend: fromSend, beforeAck: beforeAck,
                             resumes: resumes, watcherErrors: received.compactMap { $0.failure.withLockedValue { $0 } })
    }
}
