import CartAPI
import CartDomain
@testable import CartNode
import CartRPC
import CartStorage
import CartTestSupport
import CartTypes
import CartWire
import XCTest

/// Watchers that fall behind: they never slow writers, and they never silently skip.
final class WatchTests: XCTestCase {
    // Bob's watch stops reading (credit 4, node-side buffer 8) while alice adds 30 items.
    // The node drops bob's buffer instead of waiting, and when bob reads again it re-reads
    // the history from his last seq: all 31 events arrive, once each, in order.
    func testSlowWatcherFallsBackToHistoryWithoutGapsOrDuplicates() async throws {
        try await slowWatcherFallsBack(eventLoopThreads: 2)
    }

    // The same with one event loop: the replica sends bob's first items itself, on the
    // loop his connection shares, until his credit runs out; then the node falls back to
    // his buffer, its overflow and the history as before.
    func testSlowWatcherFallsBackToHistoryWhenItemsWereSentFromTheReplicasLoop() async throws {
        try await slowWatcherFallsBack(eventLoopThreads: 1)
    }

    private func slowWatcherFallsBack(eventLoopThreads: Int) async throws {
        let cluster = try TestCluster(size: 1) { configuration in
            configuration.watchBufferEventsMax = 8
            configuration.streamCreditInitial = 4
            configuration.eventLoopThreads = eventLoopThreads
        }
        try await cluster.startAll()
        do {
            try await cluster.waitForLeaders()
            let alice = try cluster.client(1, as: "alice")
            _ = try await alice.call(.itemPut, PutItemRequest(item: "tea", name: "Tea", price: Money(minorUnits: 300),
                                                              initialStock: 1_000, request: Keys.next()))
            _ = try await alice.call(.cartCreate, CreateCartRequest(cart: "slow", request: Keys.next()))
            let stream = try await alice.stream(.syncWatch, WatchRequest(cart: "slow", fromSeq: 0))
            var iterator = stream.makeAsyncIterator()
            let first = try await iterator.next()
            XCTAssertEqual(first?.event.seq, 1)
            for _ in 0..<30 {
                _ = try await alice.call(.cartAddItem, AddItemRequest(cart: "slow", item: "tea", quantity: 1, request: Keys.next()))
            }
            var seqs: [UInt64] = [1]
            var reReads = 0
            while seqs.count < 31, let item = try await iterator.next() {
                seqs.append(item.event.seq.rawValue)
                if item.committedAtMicros == nil { reReads += 1 }
            }
            XCTAssertEqual(seqs, Array(1...31))
            XCTAssertGreaterThan(cluster.node(1).metrics.value(.watchResyncs), 0, "the watcher should have overflowed and re-read")
            XCTAssertGreaterThan(reReads, 0, "events re-read from history after the overflow carry no commit time")
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    // With one event loop, a watcher that keeps up gets live items sent by the replica
    // itself (no trip through the stream's task): 200 adds from two writers at once arrive
    // once each, in order, every one with its commit time.
    func testLiveItemsSentFromTheReplicasLoopArriveOnceInOrder() async throws {
        try await liveItemsArriveOnceInOrder(eventLoopThreads: 1, watchers: 1)
    }

    // With four event loops, the watchers' connections sit on loops other than the
    // replica's: the replica hands each live item to the connection's loop in one hop. Four
    // watchers each get the 200 adds once, in order, with their commit times.
    func testLiveItemsHandedToOtherLoopsArriveOnceInOrder() async throws {
        try await liveItemsArriveOnceInOrder(eventLoopThreads: 4, watchers: 4)
    }

    private func liveItemsArriveOnceInOrder(eventLoopThreads: Int, watchers: Int) async throws {
        let cluster = try TestCluster(size: 1) { $0.eventLoopThreads = eventLoopThreads }
        try await cluster.startAll()
        do {
            try await cluster.waitForLeaders()
            let alice = try cluster.client(1, as: "alice")
            let writer = try cluster.client(1, as: "alice")
            _ = try await alice.call(.itemPut, PutItemRequest(item: "tea", name: "Tea", price: Money(minorUnits: 300),
                                                              initialStock: 1_000, request: Keys.next()))
            _ = try await alice.call(.cartCreate, CreateCartRequest(cart: "direct", request: Keys.next()))
            var streams: [RPCResponseStream<WatchItem>] = []
            for _ in 0..<watchers {
                let watcher = try cluster.client(1, as: "alice")
                let stream = try await watcher.stream(.syncWatch, WatchRequest(cart: "direct", fromSeq: 0))
                let first = try await collect(stream, count: 1)
                XCTAssertEqual(first.map(\.seq), [1])
                streams.append(stream)
            }
            let writes = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for client in [alice, writer] {
                        group.addTask {
                            for _ in 0..<100 {
                                _ = try await client.call(.cartAddItem, AddItemRequest(cart: "direct", item: "tea", quantity: 1,
                                                                                       request: Keys.next()))
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            let received = try await withThrowingTaskGroup(of: (seqs: [UInt64], withoutCommitTime: Int).self) { group in
                for stream in streams {
                    group.addTask {
                        var seqs: [UInt64] = [1]
                        var withoutCommitTime = 0
                        for try await item in stream {
                            seqs.append(item.event.seq.rawValue)
                            if item.committedAtMicros == nil { withoutCommitTime += 1 }
                            if seqs.count == 201 { break }
                        }
                        return (seqs, withoutCommitTime)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            try await writes.value
            for watcher in received {
                XCTAssertEqual(watcher.seqs, Array(1...201))
                XCTAssertEqual(watcher.withoutCommitTime, 0, "a watcher that keeps up never re-reads history")
            }
            XCTAssertGreaterThan(cluster.node(1).metrics.value(.watchItemsDirect), 0, "items went straight from the replica")
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    // Bob watches a cart alice shared with him. Alice unshares him: his stream delivers
    // every event up to and including his unshare, then ends with permissionDenied; access is
    // checked when a stream starts and must not outlive the share. Alice's own watch goes on.
    func testAnUnsharedUsersWatchEndsAtTheUnshare() async throws {
        try await unsharedUsersWatchEndsAtTheUnshare(eventLoopThreads: 2)
    }

    // The same with one event loop, where the replica sends the live events (the unshare
    // among them) itself, before it ends the stream.
    func testAnUnsharedUsersWatchEndsAtTheUnshareWhenItemsWereSentFromTheReplicasLoop() async throws {
        try await unsharedUsersWatchEndsAtTheUnshare(eventLoopThreads: 1)
    }

    private func unsharedUsersWatchEndsAtTheUnshare(eventLoopThreads: Int) async throws {
        let cluster = try TestCluster(size: 1) { $0.eventLoopThreads = eventLoopThreads }
        try await cluster.startAll()
        do {
            try await cluster.waitForLeaders()
            let alice = try cluster.client(1, as: "alice")
            let bob = try cluster.client(1, as: "bob")
            try await Self.teaCartSharedWithBob("revoked", by: alice)
            let bobs = try await bob.stream(.syncWatch, WatchRequest(cart: "revoked", fromSeq: 0))
            let alices = try await alice.stream(.syncWatch, WatchRequest(cart: "revoked", fromSeq: 0))
            _ = try await alice.call(.cartAddItem, AddItemRequest(cart: "revoked", item: "tea", quantity: 1, request: Keys.next()))
            _ = try await alice.call(.cartUnshare, UnshareCartRequest(cart: "revoked", user: "bob", request: Keys.next()))
            _ = try await alice.call(.cartAddItem, AddItemRequest(cart: "revoked", item: "tea", quantity: 2, request: Keys.next()))

            let (seen, end) = try await Self.readToTheEnd(bobs, seconds: 10)
            XCTAssertEqual((end as? RPCError)?.code, .permissionDenied, "bob's watch ended with \(String(describing: end))")
            XCTAssertEqual(seen.map(\.change.name), ["CartCreated", "CartShared", "CartItemAdded", "CartUnshared"])
            let alicesEvents = try await collect(alices, count: 5)
            XCTAssertEqual(alicesEvents.map(\.change.name), ["CartCreated", "CartShared", "CartItemAdded", "CartUnshared", "CartItemAdded"])
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    // Bob's watch had fallen behind (credit 4, node-side buffer 8, he stopped reading) when
    // alice unshared him: his buffer had overflowed, so the events up to the unshare were no
    // longer waiting for him. When he reads again he still gets every one of them, from the
    // history, up to and including his unshare and nothing after it, then permissionDenied.
    func testAWatcherBehindWhenUnsharedStillGetsEveryEventUpToTheUnshare() async throws {
        let cluster = try TestCluster(size: 1) { configuration in
            configuration.watchBufferEventsMax = 8
            configuration.streamCreditInitial = 4
        }
        try await cluster.startAll()
        do {
            try await cluster.waitForLeaders()
            let alice = try cluster.client(1, as: "alice")
            let bob = try cluster.client(1, as: "bob")
            try await Self.teaCartSharedWithBob("behind", by: alice)
            let bobs = try await bob.stream(.syncWatch, WatchRequest(cart: "behind", fromSeq: 0))
            for _ in 0..<30 {
                _ = try await alice.call(.cartAddItem, AddItemRequest(cart: "behind", item: "tea", quantity: 1, request: Keys.next()))
            }
            let unshared = try await alice.call(.cartUnshare, UnshareCartRequest(cart: "behind", user: "bob", request: Keys.next()))
            _ = try await alice.call(.cartAddItem, AddItemRequest(cart: "behind", item: "tea", quantity: 2, request: Keys.next()))

            let (seen, end) = try await Self.readToTheEnd(bobs, seconds: 10)
            XCTAssertEqual((end as? RPCError)?.code, .permissionDenied, "bob's watch ended with \(String(describing: end))")
            XCTAssertEqual(seen.map(\.seq.rawValue), Array(1...unshared.seq.rawValue))
            XCTAssertEqual(seen.last?.change.name, "CartUnshared")
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    /// Alice puts tea in the catalogue, creates `cart` and shares it with bob (seqs 1 and 2).
    private static func teaCartSharedWithBob(_ cart: CartID, by alice: RPCClient) async throws {
        _ = try await alice.call(.itemPut, PutItemRequest(item: "tea", name: "Tea", price: Money(minorUnits: 300),
                                                          initialStock: 1_000, request: Keys.next()))
        _ = try await alice.call(.cartCreate, CreateCartRequest(cart: cart, request: Keys.next()))
        _ = try await alice.call(.cartShare, ShareCartRequest(cart: cart, users: ["bob"], request: Keys.next()))
    }

    /// Every event of `stream` until it ends (or `seconds` pass), and how it ended.
    private static func readToTheEnd(_ stream: RPCResponseStream<WatchItem>, seconds: Double) async throws -> ([CartEvent], (any Error)?) {
        try await withThrowingTaskGroup(of: ([CartEvent], (any Error)?)?.self) { group in
            group.addTask {
                var events: [CartEvent] = []
                do {
                    for try await item in stream { events.append(item.event) }
                    return (events, nil)
                } catch {
                    return (events, error)
                }
            }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                return nil
            }
            let first = try await group.next()!
            group.cancelAll()
            guard let first else { throw TestFailure("the watch did not end within \(seconds) s") }
            return first
        }
    }

    // Alice watches her cart from the start. The events that were already there come from
    // the retained history and carry no commit time. Then she adds an item: the live event
    // carries the time the leader applied it, which lies between sending the write and
    // receiving its acknowledgement (same clock, microseconds). Watching again from the
    // start re-reads that event from history: now without a commit time.
    func testLiveWatchItemCarriesItsCommitTimeAndHistoryReReadsCarryNone() async throws {
        let cluster = try TestCluster(size: 1)
        try await cluster.startAll()
        do {
            try await cluster.waitForLeaders()
            let alice = try cluster.client(1, as: "alice")
            _ = try await alice.call(.itemPut, PutItemRequest(item: "tea", name: "Tea", price: Money(minorUnits: 300),
                                                              initialStock: 1_000, request: Keys.next()))
            _ = try await alice.call(.cartCreate, CreateCartRequest(cart: "timed", request: Keys.next()))
            _ = try await alice.call(.cartAddItem, AddItemRequest(cart: "timed", item: "tea", quantity: 1, request: Keys.next()))

            var live = try await alice.stream(.syncWatch, WatchRequest(cart: "timed", fromSeq: 0)).makeAsyncIterator()
            for seq in [UInt64(1), 2] {
                let item = try await live.next()
                XCTAssertEqual(item?.event.seq.rawValue, seq)
                XCTAssertNil(item?.committedAtMicros, "history event #\(seq) has no commit time")
            }
            let sentMicros = WallClockMicros.now()
            let reply = try await alice.call(.cartAddItem, AddItemRequest(cart: "timed", item: "tea", quantity: 2,
                                                                          request: Keys.next()))
            let ackedMicros = WallClockMicros.now()
            let item = try await live.next()
            XCTAssertEqual(item?.event.seq, reply.seq)
            let committed = try XCTUnwrap(item?.committedAtMicros, "a live event carries its commit time")
            XCTAssertGreaterThanOrEqual(committed, sentMicros, "committed after the write was sent")
            XCTAssertLessThanOrEqual(committed, ackedMicros, "committed before the write was acknowledged")

            var reRead = try await alice.stream(.syncWatch, WatchRequest(cart: "timed", fromSeq: reply.seq)).makeAsyncIterator()
            let again = try await reRead.next()
            XCTAssertEqual(again?.event, item?.event)
            XCTAssertNil(again?.committedAtMicros, "the same event re-read from history has no commit time")
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    // A watcher that is further behind than the cart's retained history (64 events), on a
    // node without a resume window, cannot be caught up from it: its stream ends with
    // `historyTruncated` naming the oldest seq, instead of skipping events.
    func testWatcherBehindRetainedHistoryEndsWithHistoryTruncated() async throws {
        try await withWatcherHundredEventsBehind(resumeWindowMs: 0) { cluster, iterator in
            var seqs: [UInt64] = [1]
            do {
                for _ in 0..<200 {
                    guard let item = try await iterator.next() else { break }
                    seqs.append(item.event.seq.rawValue)
                }
                XCTFail("the stream should end with historyTruncated")
            } catch let error as RPCError {
                XCTAssertEqual(error.code, .failedPrecondition)
                XCTAssertTrue(error.message.contains("history truncated"), error.message)
            }
            XCTAssertEqual(seqs, Array(1...UInt64(seqs.count)), "what was delivered is consecutive")
            // `Cart.events` from the start is refused the same way.
            let alice = try cluster.client(1, as: "alice")
            await assertRPCError(.failedPrecondition) {
                _ = try await alice.call(.cartEvents, CartEventsRequest(cart: "far-behind", fromSeq: Seq(1), eventsMax: 1_000))
            }
        }
    }

    // The same watcher on a node with the default resume window (10 s): the events it missed
    // are older than the cart keeps, but the replica applied them within the window, so the
    // watcher gets all 101, once each, in order — also after a late retry of the first add,
    // answered from the dedup window with (and so publishing again) its first events.
    func testWatcherBehindRetainedHistoryCatchesUpFromTheResumeWindow() async throws {
        try await withWatcherHundredEventsBehind(resumeWindowMs: nil) { cluster, iterator in
            XCTAssertEqual(cluster.configuration(1).watchResumeWindowMs, 10_000)
            var seqs: [UInt64] = [1]
            while seqs.count < 101, let item = try await iterator.next() { seqs.append(item.event.seq.rawValue) }
            XCTAssertEqual(seqs, Array(1...101))
            XCTAssertGreaterThan(cluster.node(1).metrics.value(.historyFromRecent), 0, "read from the resume window")
            XCTAssertEqual(cluster.node(1).metrics.value(.watchHistoryTruncated), 0)
            // `Cart.events` reads the same window, page by page.
            let alice = try cluster.client(1, as: "alice")
            let page = try await alice.call(.cartEvents, CartEventsRequest(cart: "far-behind", fromSeq: Seq(1), eventsMax: 40))
            XCTAssertEqual(page.events.map(\.seq.rawValue), Array(1...40))
            XCTAssertEqual(page.cartSeq, Seq(101))
            let rest = try await alice.call(.cartEvents, CartEventsRequest(cart: "far-behind", fromSeq: Seq(41), eventsMax: 1_000))
            XCTAssertEqual(rest.events.map(\.seq.rawValue), Array(41...101))
        }
    }

    /// A one-node cluster (resume window `resumeWindowMs`, nil: the default) where alice
    /// watches her cart "far-behind" from the start through a small buffer and credit, takes
    /// the first event, then reads nothing while she adds 100 items and sends the first add
    /// again; `body` reads on.
    private func withWatcherHundredEventsBehind(
        resumeWindowMs: Int64?,
        _ body: (TestCluster, inout RPCResponseStream<WatchItem>.AsyncIterator) async throws -> Void
    ) async throws {
        let cluster = try TestCluster(size: 1) { configuration in
            configuration.watchBufferEventsMax = 8
            configuration.streamCreditInitial = 2
            if let resumeWindowMs { configuration.watchResumeWindowMs = resumeWindowMs }
        }
        try await cluster.startAll()
        do {
            try await cluster.waitForLeaders()
            let alice = try cluster.client(1, as: "alice")
            _ = try await alice.call(.itemPut, PutItemRequest(item: "tea", name: "Tea", price: Money(minorUnits: 300),
                                                              initialStock: 1_000, request: Keys.next()))
            _ = try await alice.call(.cartCreate, CreateCartRequest(cart: "far-behind", request: Keys.next()))
            let stream = try await alice.stream(.syncWatch, WatchRequest(cart: "far-behind", fromSeq: 0))
            var iterator = stream.makeAsyncIterator()
            _ = try await iterator.next()
            let firstAdd = AddItemRequest(cart: "far-behind", item: "tea", quantity: 1, request: Keys.next())
            _ = try await alice.call(.cartAddItem, firstAdd)
            for _ in 1..<100 {
                _ = try await alice.call(.cartAddItem, AddItemRequest(cart: "far-behind", item: "tea", quantity: 1, request: Keys.next()))
            }
            let retried = try await alice.call(.cartAddItem, firstAdd)
            XCTAssertEqual(retried.seq, Seq(2), "answered from the dedup window")
            try await body(cluster, &iterator)
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    // Alice watches her cart; then the storage of the cart's partition fails on the node
    // (a failed sync: the replica stops serving). Her watch must end with `unavailable`
    // (so her client watches again elsewhere) instead of waiting forever for events that
    // will never come, and a new watch on that node is refused the same way.
    func testWatchesEndWhenTheirPartitionsStorageFails() async throws {
        let cluster = try TestCluster(size: 1)
        try await cluster.startAll()
        do {
            try await cluster.waitForLeaders()
            let alice = try cluster.client(1, as: "alice")
            _ = try await alice.call(.cartCreate, CreateCartRequest(cart: "doomed", request: Keys.next()))
            let stream = try await alice.stream(.syncWatch, WatchRequest(cart: "doomed", fromSeq: 0))
            let first = try await collect(stream, count: 1)
            XCTAssertEqual(first.map(\.seq), [1])

            let partition = try XCTUnwrap(cluster.node(1).placement).partition(of: CartID("doomed"))
            try await cluster.node(1).failStorageForTesting(partition, StorageError.syncFailed(path: "segment", errno: EIO))

            await assertRPCError(.unavailable) { _ = try await collect(stream, count: 1, seconds: 10) }
            await assertRPCError(.unavailable) {
                let again = try await alice.stream(.syncWatch, WatchRequest(cart: "doomed", fromSeq: 0))
                _ = try await collect(again, count: 1, seconds: 10)
            }
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    // Alice watches her cart when the node shuts down. Her watch ends with `unavailable` as
    // the drain starts, so the shutdown does not wait out the client port's 5 s drain
    // timeout for a stream that would never end by itself.
    func testShutdownEndsOpenWatchesInsteadOfWaitingForTheDrainTimeout() async throws {
        let cluster = try TestCluster(size: 1)
        try await cluster.startAll()
        do {
            try await cluster.waitForLeaders()
            let alice = try cluster.client(1, as: "alice")
            _ = try await alice.call(.cartCreate, CreateCartRequest(cart: "open", request: Keys.next()))
            let stream = try await alice.stream(.syncWatch, WatchRequest(cart: "open", fromSeq: 0))
            let first = try await collect(stream, count: 1)
            XCTAssertEqual(first.map(\.seq), [1])

            let started = ContinuousClock.now
            await cluster.stop(1)
            let took = ContinuousClock.now - started
            // Held by the watch, the drain would end only at its 5 s timeout.
            XCTAssertLessThan(took, .seconds(5), "the shutdown waited \(took) for the open watch")
            await assertRPCError(.unavailable) { _ = try await collect(stream, count: 1, seconds: 10) }
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }
}
