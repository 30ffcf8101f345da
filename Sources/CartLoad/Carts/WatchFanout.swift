import CartAPI
import CartClient
import CartDomain
import CartTypes
import Foundation
import NIOConcurrencyHelpers

/// `cartload carts --mode watch-fanout`: `watchers` watchers (each its own connections) on
/// one cart while a writer changes it `changesPerSecond` times a second, each watcher on the
/// node `watchNode` says.
enum WatchFanout {
    /// Longest wait for every watcher to catch up with the last change after writing stops.
    static let drainWaitMs: Int64 = 15_000
    /// Time given to the watch streams to open before the first write.
    static let watchOpenWaitMs: Int64 = 300
    /// Writes in flight at most (the open loop's cap).
    static let writesInflightMax = 64

    /// What one watcher received, in arrival order: seqs, receive times (monotonic, and
    /// wall clock to compare with commit times) and commit times (nil: re-read from history).
    final class Received: Sendable {
        struct Log {
            var seqs: [UInt64] = []
            var nanos: [UInt64] = []
            var wallMicros: [UInt64] = []
            var committedAtMicros: [UInt64?] = []
        }

        let log = NIOLockedValueBox(Log())
        /// Why the watch ended early, if it did.
        let failure = NIOLockedValueBox<String?>(nil)
        func add(_ item: WatchItem) {
            let now = LoadMeter.nowNanos(), wallNow = WallClockMicros.now()
            log.withLockedValue { log in
                log.seqs.append(item.event.seq.rawValue)
                log.nanos.append(now)
                log.wallMicros.append(wallNow)
                log.committedAtMicros.append(item.committedAtMicros)
            }
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
        let writer = users.clients[0]
        let cart = try await writer.createCart().cart
        _ = try await writer.share(cart, with: Array(users.names.dropFirst()))
        let item = users.items[0]
        let first = try await writer.addItem(cart, item: item, quantity: 1)
        let startSeq = Seq(first.seq.rawValue + 1)
        let placement = try await WatchPlacement.find(cart, asking: writer)
        let watcherClients = try (0..<options.watchers).map { index in
            let user = users.names[1 + index % (users.names.count - 1)]
            var configuration = LoadUsers.configuration(options, token: try LoadUsers.token(for: user, options.identity))
            configuration.endpoints = placement.endpoints(forWatcher: index, options.watchNode)
            configuration.followLeaders = false
            return CartClient(configuration: configuration)
        }
        defer {
            Task {
                for client in watcherClients { await client.shutdown() }
                await users.shutdown()
            }
        }

        // Connect every watcher (TLS, hello) to its node before the writes start: a cart keeps
        // only its newest events, so a watch opened late could find its start seq gone.
        for client in watcherClients { _ = try await client.clusterStatus(at: client.configuration.endpoints[0]) }
        let received = (0..<options.watchers).map { _ in Received() }
        let counters = (0..<options.watchers).map { _ in WatchCounters() }
        let watchTasks = (0..<options.watchers).map { index in
            Task {
                do {
                    for try await item in watcherClients[index].watch(cart, fromSeq: startSeq, counters: counters[index]).items {
                        received[index].add(item)
                    }
                } catch where !Task.isCancelled {
                    received[index].failure.withLockedValue { $0 = "\(error)" }
                } catch {
                    // Cancelled after the drain: a stream cut while reading is the normal end.
                }
            }
        }
        try await Task.sleep(for: .milliseconds(Self.watchOpenWaitMs))
        let start = LoadMeter.nowNanos()
        let measureStart = start + UInt64(options.warmupSeconds * 1e9)
        let end = measureStart + UInt64(options.durationSeconds * 1e9)
        let meter = LoadMeter(measureStartNanos: measureStart, measureEndNanos: end)
        let progress = options.progress
            ? Task { await ProgressLine.run(meter, startNanos: start, endNanos: end) { writer.retries } } : nil
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
                              onLeader: counters.map { $0.endpoint == placement.leader }, watchNode: options.watchNode,
                              startSeq: startSeq.rawValue, lastSeq: lastSeq, resumes: counters.map(\.resumes).reduce(0, +))
        let state = meter.snapshot
        var report = CartLoadReport(mode: options.mode.rawValue, stats: state.total, byOperation: state.byOperation,
                                    errorsByCode: state.errorsByCode, seconds: Double(end - measureStart) / 1e9)
        report.refused = state.refused
        report.retries = writer.retries
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

    /// The figures over the measured writes. `onLeader[i]`: watcher i's stream was on the
    /// partition leader.
    static func measure(writes: [Write], received: [Received], onLeader: [Bool], watchNode: CartLoadOptions.WatchNode,
                        startSeq: UInt64, lastSeq: UInt64, resumes: Int) -> FanoutFigures {
        var fromAck = LatencyStats(), fromSend = LatencyStats(), fromCommit = LatencyStats(), followers = LatencyStats()
        var beforeAck = 0, complete = 0, withoutCommitTime = 0
        let expected = lastSeq >= startSeq ? Array(startSeq...lastSeq) : []
        let logs = received.map { watcher in watcher.log.withLockedValue { $0 } }
        let measured = Set(writes.map(\.seq))
        // The leader's commit time of each seq, as the watchers on the leader received it.
        var leaderCommit: [UInt64: UInt64] = [:]
        for (log, isOnLeader) in zip(logs, onLeader) where isOnLeader {
            for (seq, committed) in zip(log.seqs, log.committedAtMicros) { if let committed { leaderCommit[seq] = committed } }
        }
        for (log, isOnLeader) in zip(logs, onLeader) {
            if log.seqs == expected { complete += 1 }
            var arrival: [UInt64: UInt64] = [:]
            for (seq, nanos) in zip(log.seqs, log.nanos) { arrival[seq] = nanos }
            for write in writes {
                guard let at = arrival[write.seq] else { continue }
                if at < write.ackedNanos { beforeAck += 1 }
                fromAck.record(nanos: at > write.ackedNanos ? at - write.ackedNanos : 0)
                fromSend.record(nanos: at - min(at, write.sentNanos))
            }
            for index in log.seqs.indices where measured.contains(log.seqs[index]) {
                let receivedAt = log.wallMicros[index]
                // An item re-read from history (the watcher fell behind its buffer) carries no
                // commit time; it is the slowest kind, so it is timed against the leader's commit
                // of the same seq as a watcher on the leader received it (for a follower's
                // watcher, an earlier time: never flattering), not left out of the figure.
                guard let committed = log.committedAtMicros[index] ?? leaderCommit[log.seqs[index]] else {
                    withoutCommitTime += 1
                    continue
                }
                fromCommit.record(nanos: (receivedAt - min(receivedAt, committed)) * 1_000)
                if !isOnLeader, let leaderCommitted = leaderCommit[log.seqs[index]] {
                    followers.record(nanos: (receivedAt - min(receivedAt, leaderCommitted)) * 1_000)
                }
            }
        }
        return FanoutFigures(watchers: received.count, watchNode: watchNode, watchersOnLeader: onLeader.filter { $0 }.count,
                             changes: writes.count, seqsExpected: expected.count, watchersComplete: complete,
                             fromCommit: fromCommit, withoutCommitTime: withoutCommitTime,
                             followersFromLeaderCommit: followers, fromAck: fromAck, fromSend: fromSend, beforeAck: beforeAck,
                             resumes: resumes, watcherErrors: received.compactMap { $0.failure.withLockedValue { $0 } })
    }
}
