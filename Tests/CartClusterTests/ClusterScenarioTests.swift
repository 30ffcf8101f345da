import CartAPI
import CartClient
import CartDomain
import CartTypes
import CartWire
import Foundation
import XCTest

/// Real `cartd` processes on loopback, each test with its own three-node cluster, PKI and
/// data directories. Every wait is bounded; every process is killed by pid in tearDown.
final class ClusterScenarioTests: XCTestCase {
    /// Fewer than the events a cart retains (CartDomain `historyEventsPerCartMax`, 64).
    static let tailEvents: UInt64 = 48

    private var cluster: LocalCluster!
    private var clients: [CartClient] = []

    override func setUp() async throws {
        cluster = try LocalCluster(nodes: 3)
        try cluster.startAll()
        try await cluster.waitForLeaders()
    }

    override func tearDown() async throws {
        for client in clients { await client.shutdown() }
        clients = []
        if let cluster, let run = testRun, run.failureCount + run.unexpectedExceptionCount > 0 {
            print(cluster.logTails())
        }
        cluster?.stopAll()
        cluster = nil
    }

    /// A client that tearDown shuts down.
    private func client(as user: String?, pinnedTo node: Int? = nil,
                        configure: (inout CartClientConfiguration) -> Void = { _ in }) throws -> CartClient {
        let client = try cluster.client(as: user, pinnedTo: node, configure: configure)
        clients.append(client)
        return client
    }

    /// Alice's cart, shared with bob, who watches it from the start; alice adds ten items and
    /// bob has seen them. `servingNode` is the node bob's watch runs on.
    private struct WatchedCart {
        let cart: CartID
        let seen: EventLog
        let counters: WatchCounters
        let watch: Task<Void, any Error>
        let last: Seq
        let servingNode: Int
    }

    private func bobWatchesAlicesCart(_ alice: CartClient, _ bob: CartClient) async throws -> WatchedCart {
        _ = try await alice.putItem("sku-1", name: "beans", price: Money(minorUnits: 100), initialStock: 1_000)
        let cart = try await alice.createCart().cart
        _ = try await alice.share(cart, with: ["bob"])
        let seen = EventLog()
        let counters = WatchCounters()
        let watch = Task { for try await event in bob.watch(cart, counters: counters) { seen.append(event) } }
        var last = Seq(2)
        for _ in 0..<10 { last = try await alice.addItem(cart, item: "sku-1", quantity: 1).seq }
        try await seen.waitUntil(seq: last, seconds: 30)
        let serving = try XCTUnwrap(counters.endpoint)
        let node = try XCTUnwrap(cluster.endpoints.firstIndex(of: serving)) + 1
        return WatchedCart(cart: cart, seen: seen, counters: counters, watch: watch, last: last, servingNode: node)
    }

    private func register(_ users: String...) async throws {
        let anonymous = try client(as: nil)
        for user in users { _ = try await anonymous.register(UserID(user), password: "secret-\(user)") }
    }

    // Story: alice talks to each node in turn, never to a leader on purpose: every node
    // forwards her writes to the partition leader. Each cart, read through every node, shows
    // the same lines and the same history.
    func testWritesThroughAnyNodeAreReadBackFromEveryNode() async throws {
        try await register("alice")
        let pinned = try (1...3).map { try client(as: "alice", pinnedTo: $0) }
        _ = try await pinned[0].putItem("sku-1", name: "beans", price: Money(minorUnits: 1_250), initialStock: 1_000)
        var carts: [CartID] = []
        for writer in pinned {
            let cart = try await writer.createCart().cart
            for _ in 0..<3 { _ = try await writer.addItem(cart, item: "sku-1", quantity: 1) }
            carts.append(cart)
        }
        for cart in carts {
            let histories = try await pinnedHistories(cart, pinned)
            XCTAssertEqual(histories[0].map(\.seq.rawValue), Array(1...4), "create + three adds")
            for (node, history) in histories.enumerated() { XCTAssertEqual(history, histories[0], "node \(node + 1) of \(cart)") }
            for node in 1...3 { try await assertReplicaHolds(histories[0], of: cart, from: Seq(1), node: node) }
            for reader in pinned {
                let read = try await reader.getCart(cart)
                XCTAssertEqual(read.lines.map(\.quantity), [3])
                XCTAssertEqual(read.owner, "alice")
            }
        }
    }

    // Story: four writers add to one cart while its partition leader is killed with
    // SIGKILL. The survivors elect a new leader; writers retry with the same request keys,
    // so every change is applied exactly once and each acknowledged one is in the history.
    // A watcher follows along across the failover; the history is the same through every
    // surviving node. The killed node restarts after the log moved past several snapshots
    // and catches up.
    func testKillingTheLeaderDuringWritesLosesNoAcknowledgedWriteAndTheRestartedNodeCatchesUp() async throws {
        try await register("alice")
        let alice = try client(as: "alice")
        _ = try await alice.putItem("sku-1", name: "beans", price: Money(minorUnits: 100), initialStock: 1_000)
        let cart = try await alice.createCart().cart
        let partition = try XCTUnwrap(alice.partitionMap).partition(of: cart)
        let leaders = try await cluster.waitForLeaders()
        let victim = try XCTUnwrap(leaders[partition])

        let watcher = try client(as: "alice")
        let watched = EventLog()
        let watch = Task { for try await event in watcher.watch(cart) { watched.append(event) } }
        defer { watch.cancel() }

        let writesPerWriter = 80, writers = 4
        let acked = EventLog()
        let cluster = self.cluster!
        let killed = Task {
            // Kill the leader once the writes are well under way.
            for _ in 0..<600 where acked.count < 40 { try? await Task.sleep(for: .milliseconds(50)) }
            cluster.kill(victim)
        }
        let seqs = try await withThrowingTaskGroup(of: [Seq].self) { group in
            for _ in 0..<writers {
                group.addTask {
                    var mine: [Seq] = []
                    for _ in 0..<writesPerWriter {
                        let reply = try await alice.addItem(cart, item: "sku-1", quantity: 1)
                        mine.append(reply.seq)
                        acked.count += 1
                    }
                    return mine
                }
            }
            return try await group.reduce(into: [Seq]()) { $0 += $1 }
        }
        await killed.value
        XCTAssertEqual(seqs.count, writers * writesPerWriter, "every write was acknowledged")

        let after = try await cluster.waitForLeaders(excluding: [victim])
        XCTAssertNotEqual(after[partition], victim, "a survivor leads the partition")

        // A cart retains only its newest events; the watch, which saw every event live, is
        // the full record, and the retained tail must match it on every node.
        let final = try await alice.getCart(cart)
        XCTAssertEqual(final.lines.first?.quantity, Int64(writers * writesPerWriter), "each write applied exactly once")
        try await watched.waitUntil(seq: final.seq, seconds: 30)
        let history = watched.events
        XCTAssertEqual(history.map(\.seq.rawValue), Array(1...final.seq.rawValue), "no gap or repeat in the watch")
        let added = history.filter { if case .itemAdded = $0.change { true } else { false } }
        XCTAssertEqual(added.count, writers * writesPerWriter, "each write is one event")
        XCTAssertTrue(Set(seqs).isSubset(of: Set(history.map(\.seq))), "every acknowledged write is in the history")

        let tailStart = Seq(final.seq.rawValue - Self.tailEvents + 1)
        let tail = Array(history.suffix(Int(Self.tailEvents)))
        for node in cluster.running {
            let read = try await client(as: "alice", pinnedTo: node).events(cart, fromSeq: tailStart).events
            XCTAssertEqual(read, tail, "retained history through node \(node)")
            try await assertReplicaHolds(tail, of: cart, from: tailStart, node: node)
        }

        try cluster.start(victim)
        try await waitUntilCaughtUp(node: victim, partition: partition, seconds: 60)
        // The restarted node's own copy, rebuilt from its disk and what it caught up on.
        try await assertReplicaHolds(tail, of: cart, from: tailStart, node: victim)
    }

    /// Node `node`'s own replica (a local read, no leader) holds `expected` from `fromSeq` on,
    /// once it has applied that far (it may lag its leader by a few entries).
    private func assertReplicaHolds(_ expected: [CartEvent], of cart: CartID, from fromSeq: Seq, node: Int,
                                    seconds: Double = 10, file: StaticString = #filePath, line: UInt = #line) async throws {
        let reader = try client(as: "alice", pinnedTo: node)
        defer { Task { await reader.shutdown() } }
        let deadline = Date().addingTimeInterval(seconds)
        var read: [CartEvent] = []
        while true {
            // A node just restarted refuses local reads until its replica knows a leader.
            let page = try? await reader.events(cart, fromSeq: fromSeq, consistency: .local(at: cluster.endpoint(ofNode: node)))
            if let page {
                XCTAssertEqual(page.servedBy?.node, NodeID(UInt64(node)), file: file, line: line)
                read = page.events
                if read.count >= expected.count { break }
            }
            if Date() >= deadline {
                _ = try await reader.events(cart, fromSeq: fromSeq, consistency: .local(at: cluster.endpoint(ofNode: node)))
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        XCTAssertEqual(read, expected, "node \(node)'s own copy of \(cart)", file: file, line: line)
    }

    // Story: the leader of alice's cart's partition hangs (SIGSTOP) while two writers add to
    // the cart: its process answers nothing, but its sockets stay open. The client gives
    // the hung node's connection up after a second of silence, leaves the node alone and
    // retries through the others, which elect a new leader: every write is acknowledged and
    // applied once. Each attempt may take a minute here, the whole operation 30 s, and the
    // nodes' keepalive (which closes a silent connection after three intervals) is a
    // minute too, so only the client's stall watch lets the writes through. The node then
    // continues and catches up.
    func testAHungLeaderIsGivenUpAndItsWritesGoThroughTheOthers() async throws {
        cluster.stopAll()
        cluster = try LocalCluster(nodes: 3, extraArguments: ["--client-keepalive-ms", "60000"])
        try cluster.startAll()
        try await cluster.waitForLeaders()
        try await register("alice")
        let alice = try client(as: "alice") { $0.attemptTimeoutMs = 60_000 }
        _ = try await alice.putItem("sku-1", name: "beans", price: Money(minorUnits: 100), initialStock: 1_000)
        let cart = try await alice.createCart().cart
        let partition = try XCTUnwrap(alice.partitionMap).partition(of: cart)
        let leaders = try await cluster.waitForLeaders()
        let victim = try XCTUnwrap(leaders[partition])

        let writesPerWriter = 40, writers = 2
        let acked = EventLog()
        let cluster = self.cluster!
        let paused = Task {
            for _ in 0..<600 where acked.count < 20 { try? await Task.sleep(for: .milliseconds(50)) }
            cluster.pause(victim)
        }
        let seqs = try await withThrowingTaskGroup(of: [Seq].self) { group in
            for _ in 0..<writers {
                group.addTask {
                    var mine: [Seq] = []
                    for _ in 0..<writesPerWriter {
                        mine.append(try await alice.addItem(cart, item: "sku-1", quantity: 1).seq)
                        acked.count += 1
                    }
                    return mine
                }
            }
            return try await group.reduce(into: [Seq]()) { $0 += $1 }
        }
        await paused.value
        XCTAssertEqual(Set(seqs).count, writers * writesPerWriter, "every write acknowledged, each with its own seq")
        let after = try await cluster.waitForLeaders(excluding: [victim])
        XCTAssertNotEqual(after[partition], victim, "a live node leads the partition")
        let final = try await alice.getCart(cart)
        XCTAssertEqual(final.lines.first?.quantity, Int64(writers * writesPerWriter), "each write applied exactly once")

        cluster.resume(victim)
        try await waitUntilCaughtUp(node: victim, partition: partition, seconds: 60)
    }

    // Story: alice shares her cart with bob, who watches it. Alice's adds reach bob in
    // order. The node serving bob's watch is stopped (SIGTERM: it drains and closes bob's
    // connection); bob's watch resumes on another node from the seq after the last one it
    // delivered: no gap, no repeat. Then the node comes back and alice keeps adding.
    func testSharedCartWatchSeesTheOtherUsersAddsInOrderAcrossAReconnect() async throws {
        try await register("alice", "bob")
        let alice = try client(as: "alice"), bob = try client(as: "bob")
        let watched = try await bobWatchesAlicesCart(alice, bob)
        defer { watched.watch.cancel() }
        let (cart, seen, counters, victim) = (watched.cart, watched.seen, watched.counters, watched.servingNode)
        var last = watched.last
        cluster.stop(victim)
        try await cluster.waitForLeaders(excluding: [victim])
        for _ in 0..<10 { last = try await alice.addItem(cart, item: "sku-1", quantity: 1).seq }
        try await seen.waitUntil(seq: last, seconds: 30)
        try cluster.start(victim)
        try await cluster.waitForLeaders()
        for _ in 0..<5 { last = try await alice.addItem(cart, item: "sku-1", quantity: 1).seq }
        try await seen.waitUntil(seq: last, seconds: 30)

        XCTAssertGreaterThanOrEqual(counters.resumes, 1, "the watch reconnected")
        XCTAssertEqual(seen.events.map(\.seq.rawValue), Array(1...last.rawValue))
        let history = try await alice.allEvents(cart)
        XCTAssertEqual(seen.events, history)
        let adds = seen.events.compactMap { if case .itemAdded(let added) = $0.change { added.actor } else { nil } }
        XCTAssertEqual(adds, Array(repeating: UserID("alice"), count: 25))
    }

    // Story: bob watches alice's cart through a node that then hangs (SIGSTOP: its
    // connections stay open, it answers nothing). The nodes' keepalive is 60 s, so only the
    // client's stall watch can notice: bob's watch gives the node up and resumes on another
    // one from the seq after the last it delivered, while alice keeps adding. Every add
    // reaches bob once, in order, long before the keepalive would have said anything.
    func testAWatchOnAHungNodeResumesOnAnotherOneWithoutAGap() async throws {
        cluster.stopAll()
        cluster = try LocalCluster(nodes: 3, extraArguments: ["--client-keepalive-ms", "60000"])
        try cluster.startAll()
        try await cluster.waitForLeaders()
        try await register("alice", "bob")
        let alice = try client(as: "alice") { $0.attemptTimeoutMs = 60_000 }
        let bob = try client(as: "bob")
        let watched = try await bobWatchesAlicesCart(alice, bob)
        defer { watched.watch.cancel() }
        let (cart, seen, counters, victim) = (watched.cart, watched.seen, watched.counters, watched.servingNode)
        let serving = cluster.endpoints[victim - 1]
        var last = watched.last
        cluster.pause(victim)
        defer { cluster.resume(victim) }
        try await cluster.waitForLeaders(excluding: [victim])
        for _ in 0..<10 { last = try await alice.addItem(cart, item: "sku-1", quantity: 1).seq }
        try await seen.waitUntil(seq: last, seconds: 30)

        XCTAssertGreaterThanOrEqual(counters.resumes, 1, "the watch resumed")
        XCTAssertNotEqual(counters.endpoint, serving, "on another node")
        XCTAssertEqual(seen.events.map(\.seq.rawValue), Array(1...last.rawValue))
        let history = try await alice.allEvents(cart)
        XCTAssertEqual(seen.events, history)
    }

    // Story: carol was never invited to alice's cart. Every cart operation and the watch
    // answer "permission denied"; nothing she tries changes the cart.
    func testCarolWhoWasNotInvitedIsRefusedEveryCartOperationAndTheWatch() async throws {
        try await register("alice", "bob", "carol")
        let alice = try client(as: "alice"), carol = try client(as: "carol")
        _ = try await alice.putItem("sku-1", name: "beans", price: Money(minorUnits: 100), initialStock: 1_000)
        let cart = try await alice.createCart().cart
        _ = try await alice.share(cart, with: ["bob"])
        let before = try await alice.addItem(cart, item: "sku-1", quantity: 1)

        try await assertDenied("get") { _ = try await carol.getCart(cart) }
        try await assertDenied("add") { _ = try await carol.addItem(cart, item: "sku-1", quantity: 1) }
        try await assertDenied("remove") { _ = try await carol.removeItem(cart, item: "sku-1") }
        try await assertDenied("set-qty") { _ = try await carol.setQuantity(cart, item: "sku-1", quantity: 5) }
        try await assertDenied("share") { _ = try await carol.share(cart, with: ["carol"]) }
        try await assertDenied("unshare") { _ = try await carol.unshare(cart, user: "bob") }
        try await assertDenied("checkout") { _ = try await carol.checkout(cart) }
        try await assertDenied("events") { _ = try await carol.events(cart) }
        try await assertDenied("watch") {
            var iterator = carol.watch(cart).makeAsyncIterator()
            _ = try await iterator.next()
        }
        let after = try await alice.getCart(cart)
        XCTAssertEqual(after.version, before.version, "carol changed nothing")
    }

    // MARK: Helpers

    private func assertDenied(_ operation: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
            XCTFail("\(operation): carol was allowed")
        } catch let error as CartClientError {
            XCTAssertEqual(error.code, .permissionDenied, "\(operation): \(error)")
        }
    }

    private func pinnedHistories(_ cart: CartID, _ pinned: [CartClient]) async throws -> [[CartEvent]] {
        var histories: [[CartEvent]] = []
        for client in pinned { histories.append(try await client.allEvents(cart)) }
        return histories
    }

    /// Waits until `node` has applied everything the partition's leader has committed.
    private func waitUntilCaughtUp(node: Int, partition: PartitionID, seconds: Double) async throws {
        let observer = try client(as: nil)
        let deadline = Date().addingTimeInterval(seconds)
        var lastSeen = ""
        while Date() < deadline {
            let mine = try? await observer.clusterStatus(at: cluster.endpoint(ofNode: node))
                .partitions.first { $0.partition == partition }
            var leaderCommit: LogIndex?
            for other in cluster.running where other != node {
                let status = try? await observer.clusterStatus(at: cluster.endpoint(ofNode: other))
                if let view = status?.partitions.first(where: { $0.partition == partition && $0.role == .leader }) {
                    leaderCommit = view.commitIndex
                }
            }
            if let mine, let leaderCommit, mine.appliedIndex >= leaderCommit { return }
            lastSeen = "node \(node) applied \(mine?.appliedIndex.rawValue ?? 0), leader committed \(leaderCommit?.rawValue ?? 0)"
            try await Task.sleep(for: .milliseconds(100))
        }
        XCTFail("node \(node) did not catch up in \(seconds) s: \(lastSeen)")
    }
}

/// Events (and a counter) shared between the tasks of a test.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [CartEvent] = []
    private var counted = 0

    var events: [CartEvent] { lock.withLock { stored } }
    var count: Int {
        get { lock.withLock { counted } }
        set { lock.withLock { counted = newValue } }
    }

    func append(_ event: CartEvent) { lock.withLock { stored.append(event) } }

    func waitUntil(seq: Seq, seconds: Double) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let last = events.last, last.seq >= seq { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw ClusterTestError("events up to #\(seq.rawValue) did not arrive in \(seconds) s (have \(events.last?.seq.rawValue ?? 0))")
    }
}
