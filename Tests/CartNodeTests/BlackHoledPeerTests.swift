import CartAPI
import CartDomain
import CartGateway
@testable import CartNode
import CartRPC
import CartTestSupport
import CartTypes
import NIOPosix
import XCTest

/// A peer that stops answering without closing anything: the circuit breaker's case.
final class BlackHoledPeerTests: XCTestCase {
    // Three nodes; every node-to-node path runs through its own TCP proxy (each node's
    // member list gives the proxy as the peer's address). Once leaders are known, the client's
    // node ("front") loses its path to the peer port of a node that leads some partitions
    // ("sick"): the proxy keeps accepting but swallows everything, so calls hang instead of
    // failing. The sick node's own links still work, so it keeps its leaderships and the
    // front node keeps forwarding to it.
    //
    // Requests for partitions led by the front node or the third node keep succeeding through
    // the whole episode. Forwarded requests to the sick node hang until their timeout; once
    // enough have failed, the front node's breaker for the sick node opens (counted on
    // /metrics, logged as a warning naming the peer), and the next request for the sick
    // node's partition fails fast, instead of hanging until the forward timeout, with
    // `notLeader` naming the sick node (which the front node still hears, so it is up and
    // leading, and a client may reach it directly) and a retry-after.
    func testBlackHoledPeerOpensItsBreakerWhilePartitionsLedElsewhereKeepServing() async throws {
        let logs = CapturedLogs()
        // 1 s elections: the scenario needs the sick node to keep its leaderships throughout,
        // and a loop stalled for a 200 ms election timeout on a loaded machine could move one.
        let tweak: (inout NodeConfiguration) -> Void = { configuration in
            configuration.metricsPort = 0
            configuration.electionTimeoutTicks = 50
        }
        try await ProxiedPaths.withCluster(size: 3, partitions: 8, logs: logs, tweak: tweak) { cluster, proxies in
            try await runBlackHoleScenario(cluster, proxies: proxies, logs: logs)
        }
    }

    // The path from the front node to the sick node stalls (its bytes wait in the proxy)
    // long enough for the front node's breaker to open; then it carries bytes again. The
    // front node's link to the sick node reconnects, and its breaker probes the sick node
    // at once: a write through the front node to the sick node's partition goes through
    // before the breaker's 5 s open time is over (without the reconnect's word, every call
    // until then is refused without trying).
    func testABreakerOpenedByAStalledPathProbesThePeerOnceTheLinkReconnects() async throws {
        let tweak: (inout NodeConfiguration) -> Void = { $0.electionTimeoutTicks = 50 }
        try await ProxiedPaths.withCluster(size: 3, partitions: 8, tweak: tweak) { cluster, proxies in
            let (front, sick, leaders) = try await chooseFrontAndSick(cluster)
            let placement = try XCTUnwrap(cluster.node(front).placement)
            let sickCart = try cart(in: leaders.filter { $0.value == sick }.keys, placement: placement)
            let client = try cluster.client(front, as: "alice")
            _ = try await client.call(.itemPut, PutItemRequest(item: "sku-b", name: "sku-b", price: Money(minorUnits: 100),
                                                               initialStock: 1_000_000, request: Keys.next()))
            _ = try await client.call(.cartCreate, CreateCartRequest(cart: sickCart, request: Keys.next()))
            _ = try await Self.add(client, sickCart)
            let breakers = try XCTUnwrap(cluster.node(front).services).router.guards.breakers

            proxies[front, sick].hold()
            let failed = await Self.failedAdds(12, client, sickCart)
            XCTAssertEqual(failed, 12, "every call sent into the stalled path failed")
            guard case .open(let until) = breakers.state(of: sick) else {
                return XCTFail("the front node's breaker for node \(sick) is \(breakers.state(of: sick)), not open")
            }
            proxies[front, sick].release()

            let deadline = ContinuousClock.now + .seconds(20)
            var added = false
            while !added, ContinuousClock.now < deadline {
                added = (try? await Self.add(client, sickCart)) != nil
                if !added { try await Task.sleep(for: .milliseconds(50)) }
            }
            XCTAssertTrue(added, "the sick node's partition takes writes through the front node again")
            XCTAssertLessThan(SystemGatewayClock().monotonicNow(), until,
                              "the write went through before the breaker's open time was over")
        }
    }

    private func runBlackHoleScenario(_ cluster: TestCluster, proxies: ProxiedPaths, logs: CapturedLogs) async throws {
        let (front, sick, leaders) = try await chooseFrontAndSick(cluster)
        let placement = try XCTUnwrap(cluster.node(front).placement)
        let sickCart = try cart(in: leaders.filter { $0.value == sick }.keys, placement: placement)
        let healthyCarts = try leaders.filter { $0.value != sick }.keys.map { try cart(in: [$0], placement: placement) }
        let client = try cluster.client(front, as: "alice")
        _ = try await client.call(.itemPut, PutItemRequest(item: "sku-b", name: "sku-b", price: Money(minorUnits: 100),
                                                           initialStock: 1_000_000, request: Keys.next()))
        for cart in [sickCart] + healthyCarts {
            _ = try await client.call(.cartCreate, CreateCartRequest(cart: cart, request: Keys.next()))
        }
        // Before the fault: forwarding to the sick node works.
        for _ in 0..<3 { _ = try await Self.add(client, sickCart) }
        let metricsPort = try XCTUnwrap(cluster.node(front).ports?.metrics)
        XCTAssertEqual(try counter("cart_gateway_breaker_opened_total", port: metricsPort), 0)

        proxies[front, sick].blackHole()

        // Enough calls to the sick node to fill the breaker's window with failures; each hangs
        // until the forward times out.
        async let hanging = Self.failedAdds(12, client, sickCart)
        // Meanwhile, and until the breaker opens, partitions led elsewhere keep serving.
        var healthyAdds = 0
        var opened = false
        let deadline = ContinuousClock.now + .seconds(25)
        while !opened, ContinuousClock.now < deadline {
            for cart in healthyCarts {
                _ = try await Self.add(client, cart)
                healthyAdds += 1
            }
            opened = try counter("cart_gateway_breaker_opened_total", port: metricsPort) > 0
            if !opened { try await Task.sleep(for: .milliseconds(100)) }
        }
        guard opened else { throw TestFailure("the front node's breaker for node \(sick) did not open within 25 s") }
        XCTAssertGreaterThan(healthyAdds, 0)

        // Open: a request that must go to the sick node is refused without trying it.
        // The front node still hears the sick node (its own path to the front works): the sick
        // node is up and leading, so the refusal names it for the client to reach directly.
        let refused = await assertRPCError(.notLeader) { try await Self.add(client, sickCart) }
        XCTAssertNotNil(refused?.retryAfterMs, "an open breaker's refusal carries a retry-after")
        XCTAssertTrue(refused?.message.contains("circuit") ?? false, "\(String(describing: refused))")
        XCTAssertEqual(refused?.leaderHint?.nodeID, sick, "the refusal names the leader the front node cannot reach")
        let failedWhileHanging = await hanging
        XCTAssertEqual(failedWhileHanging, 12, "every call sent into the black hole failed")
        XCTAssertEqual(try counter("cart_gateway_breaker_opened_total", port: metricsPort), 1)
        XCTAssertGreaterThan(try counter("cart_gateway_breaker_rejected_total", port: metricsPort), 0)

        // Logged once, by the front node, naming the sick peer.
        let openings = logs.all.filter { $0.message.hasPrefix("circuit to peer opened") }
        XCTAssertEqual(openings.count, 1, "\(openings)")
        XCTAssertEqual(openings.first?.metadata["node"], "\(front)")
        XCTAssertEqual(openings.first?.metadata["peer"], "\(sick)")
        XCTAssertEqual(openings.first?.level, .warning)

        // And the healthy partitions still serve after the breaker opened.
        for cart in healthyCarts { _ = try await Self.add(client, cart) }
    }

    /// The client's node and a node it will lose: the sick node leads at least one partition
    /// (as the front node sees it), and at least one partition is led elsewhere.
    private func chooseFrontAndSick(_ cluster: TestCluster) async throws -> (NodeID, NodeID, [PartitionID: NodeID]) {
        if let chosen = await findFrontAndSick(cluster) { return chosen }
        // Elections may leave one node leading every partition (the first node up often wins
        // them all): hand one partition's leadership to another node, as an operator would.
        let statuses = await cluster.node(1).partitionStatuses()
        let partition = try XCTUnwrap(statuses.first?.partition)
        let leader = try XCTUnwrap(statuses.first?.leader)
        let target: NodeID = leader == 1 ? 2 : 1
        let replica = try XCTUnwrap(cluster.node(leader).replica(partition))
        try await replica.loop.submit {
            try replica.raft.transferLeadership(to: target)
            replica.scheduleReady()
        }.get()
        // Every node must see the new leader before the test reads one node's view of the leaders.
        try await eventually(10, "every node sees \(target) lead \(partition)") {
            for id in [NodeID(1), NodeID(2), NodeID(3)] {
                let leader = await cluster.node(id).partitionStatuses().first { $0.partition == partition }?.leader
                if leader != target { return false }
            }
            return true
        }
        if let chosen = await findFrontAndSick(cluster) { return chosen }
        throw TestFailure("one node leads every partition; no node can be lost with others still leading")
    }

    private func findFrontAndSick(_ cluster: TestCluster) async -> (NodeID, NodeID, [PartitionID: NodeID])? {
        for front in [NodeID(1), NodeID(2), NodeID(3)] {
            let statuses = await cluster.node(front).partitionStatuses()
            let leaders = Dictionary(uniqueKeysWithValues: statuses.map { ($0.partition, $0.leader) })
            for sick in [NodeID(1), NodeID(2), NodeID(3)] where sick != front {
                let led = leaders.values.filter { $0 == sick }.count
                if led > 0, led < leaders.count { return (front, sick, leaders) }
            }
        }
        return nil
    }

    /// A cart id whose partition is one of `partitions`.
    private func cart(in partitions: some Sequence<PartitionID>, placement: Placement) throws -> CartID {
        let wanted = Set(partitions)
        for i in 0..<10_000 {
            let cart = CartID("bh-cart-\(i)")
            if wanted.contains(placement.partition(of: cart)) { return cart }
        }
        throw TestFailure("no cart id found for partitions \(wanted)")
    }

    /// One counter's value from the node's `/metrics` page.
    private func counter(_ name: String, port: Int) throws -> UInt64 {
        let page = try httpGet(port: port, path: "/metrics")
        for line in page.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, fields[0] == name, let value = UInt64(fields[1]) { return value }
        }
        throw TestFailure("\(name) is not on /metrics")
    }

    /// Sends `count` adds to `cart` at once; how many failed.
    private static func failedAdds(_ count: Int, _ client: RPCClient, _ cart: CartID) async -> Int {
        await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<count {
                group.addTask { (try? await add(client, cart)) == nil }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
    }

    private static func add(_ client: RPCClient, _ cart: CartID) async throws -> CartWriteReply {
        try await client.call(.cartAddItem, AddItemRequest(cart: cart, item: "sku-b", quantity: 1, request: Keys.next()))
    }
}
