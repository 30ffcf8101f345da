import CartAPI
import CartDomain
@testable import CartNode
import CartRPC
import CartTestSupport
import CartTypes
import NIOPosix
import XCTest

/// A watch served by a replica that lags, or is cut off from, the rest of its group.
final class IsolatedReplicaWatchTests: XCTestCase {
    // The path from the cart partition's leader to one follower stalls (its bytes wait in the
    // proxy), so the follower has not heard of a cart alice has just created through the
    // leader. Alice's watch on that follower does not end with "not found": the follower
    // asks the leader for its commit index (the reply waits in the stalled path too), and
    // once the path resumes and the follower has applied the cart, the watch delivers it.
    //
    // The stall also holds the leader's heartbeats: the election timeout is raised to 2 s so
    // that the follower keeps its leader (and its read request stays pending) through a slow
    // create and watch on a loaded machine.
    func testAWatchOnALaggingFollowerSeesTheCartJustCreatedThroughTheLeader() async throws {
        try await ProxiedPaths.withCluster(size: 3, partitions: 4, tweak: Self.slowElections) { cluster, proxies in
            let cart = CartID("lagging")
            let (_, leader, follower) = try await Self.createWhileTheFollowerLags(cart, cluster, proxies)
            let metrics = cluster.node(follower).metrics
            let readsBefore = metrics.value(.readsLinearizable)
            let watcher = try cluster.client(follower, as: "alice")
            let stream = try await watcher.stream(.syncWatch, WatchRequest(cart: cart, fromSeq: 0))
            let watched = Task { try await collect(stream, count: 1) }
            // The follower has found no cart and asked the leader: only now may the path resume.
            try await eventually(10, "node \(follower) asks its leader before refusing the watch") {
                metrics.value(.readsLinearizable) > readsBefore
            }
            proxies[leader, follower].release()
            let events = try await watched.value
            XCTAssertEqual(events.map(\.seq), [1])
            guard case .created = events.first?.change else { return XCTFail("\(events)") }
        }
    }

    // The same stalled path, but it stays stalled: the leader's reply to the follower's read
    // request never arrives, so the follower gives up on it after two election timeouts and
    // ends the watch with `unavailable` (retryable, so alice's client watches elsewhere)
    // rather than refuse a cart it cannot tell is missing, or wait without end. Once the
    // path resumes, the same watch on the follower delivers the cart.
    func testAWatchOnAFollowerThatCannotReachItsLeaderEndsUnavailableNotNotFound() async throws {
        try await ProxiedPaths.withCluster(size: 3, partitions: 4, tweak: Self.slowElections) { cluster, proxies in
            let cart = CartID("stalled")
            let (partition, leader, follower) = try await Self.createWhileTheFollowerLags(cart, cluster, proxies)
            let watcher = try cluster.client(follower, as: "alice")
            let refused = await assertRPCError(.unavailable) {
                let stream = try await watcher.stream(.syncWatch, WatchRequest(cart: cart, fromSeq: 0))
                _ = try await collect(stream, count: 1, seconds: 10)
            }
            XCTAssertNotNil(refused?.retryAfterMs)
            proxies[leader, follower].release()
            // The follower may have stopped following during the stall; once it has the cart
            // again, the same watch delivers it.
            try await eventually(20, "node \(follower) applies the cart") {
                await cluster.node(follower).replicaState(partition)?.carts[cart] != nil
            }
            let stream = try await watcher.stream(.syncWatch, WatchRequest(cart: cart, fromSeq: 0))
            let events = try await collect(stream, count: 1)
            XCTAssertEqual(events.map(\.seq), [1])
        }
    }

    /// Stalls the path from `cart`'s partition leader to one of its followers, then creates
    /// the cart through the leader: the follower has not heard of it.
    static func createWhileTheFollowerLags(_ cart: CartID, _ cluster: TestCluster, _ proxies: ProxiedPaths) async throws
        -> (partition: PartitionID, leader: NodeID, follower: NodeID) {
        let placement = try XCTUnwrap(cluster.node(1).placement)
        let partition = placement.partition(of: cart)
        let leader = try await cluster.leader(of: partition, within: 10)
        let follower = try XCTUnwrap(placement.replicas(of: partition).first { $0 != leader })
        proxies[leader, follower].hold()
        _ = try await cluster.client(leader, as: "alice").call(.cartCreate, CreateCartRequest(cart: cart, request: Keys.next()))
        return (partition, leader, follower)
    }

    /// A 2 s election timeout (100 ticks of 20 ms): read rounds expire after 4 s.
    static func slowElections(_ configuration: inout NodeConfiguration) {
        configuration.electionTimeoutTicks = 100
    }

    // The cart does not exist anywhere: after the follower's read barrier, the watch is
    // refused with `notFound` as before.
    func testAWatchOfACartNoOneCreatedIsRefusedAfterTheBarrier() async throws {
        try await ProxiedPaths.withCluster(size: 3, partitions: 4) { cluster, _ in
            let placement = try XCTUnwrap(cluster.node(1).placement)
            let cart = CartID("nowhere")
            let partition = placement.partition(of: cart)
            let leader = try await cluster.leader(of: partition, within: 10)
            let follower = try XCTUnwrap(placement.replicas(of: partition).first { $0 != leader })
            let metrics = cluster.node(follower).metrics
            let readsBefore = metrics.value(.readsLinearizable)
            let watcher = try cluster.client(follower, as: "alice")
            await assertRPCError(.notFound) {
                let stream = try await watcher.stream(.syncWatch, WatchRequest(cart: cart, fromSeq: 0))
                _ = try await collect(stream, count: 1, seconds: 10)
            }
            XCTAssertGreaterThan(metrics.value(.readsLinearizable), readsBefore)
        }
    }

    // Alice watches her cart through node 3. Then every path between node 3 and the other
    // nodes swallows its traffic (nothing closes, nothing arrives). Node 3 can receive no
    // more events, and after three election timeouts without a leader it ends alice's watch
    // with `unavailable` (her client would resume on another node) instead of leaving it
    // silent until the network heals; a new watch on node 3 is refused the same way.
    func testAWatchOnAnIsolatedReplicaEndsWithUnavailable() async throws {
        try await ProxiedPaths.withCluster(size: 3, partitions: 4) { cluster, proxies in
            let alice = try cluster.client(3, as: "alice")
            _ = try await alice.call(.cartCreate, CreateCartRequest(cart: "island", request: Keys.next()))
            let stream = try await alice.stream(.syncWatch, WatchRequest(cart: "island", fromSeq: 0))
            let first = try await collect(stream, count: 1)
            XCTAssertEqual(first.map(\.seq), [1])

            for (path, proxy) in proxies.proxies where path.from == 3 || path.to == 3 { proxy.blackHole() }
            await assertRPCError(.unavailable) { _ = try await collect(stream, count: 1, seconds: 20) }
            await assertRPCError(.unavailable) {
                let again = try await alice.stream(.syncWatch, WatchRequest(cart: "island", fromSeq: 0))
                _ = try await collect(again, count: 1, seconds: 10)
            }
        }
    }
}

/// A node that hangs (stopped, not crashed): its connections stay open and say nothing.
final class HungNodeWatchTests: XCTestCase {
    // Alice watches her cart through a proxy to the node's client port. The proxy goes silent
    // (as a node stopped with SIGSTOP would: nothing closes, nothing answers). With her
    // client's stall watch off (`StallWatchTests` has it on: about a second), the keepalive
    // pings go unanswered, and after three silent intervals of the client port's default 2 s
    // the watch ends with `unavailable`, which a client answers by watching on another node:
    // seconds, not the half-minute of a 10 s interval.
    func testAWatchThroughAHungNodeEndsWithinThreeKeepaliveIntervals() async throws {
        let cluster = try TestCluster(size: 1)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let proxy = try await BlackHoleProxy.start(on: group)
        do {
            try await cluster.startAll()
            try await cluster.waitForLeaders()
            XCTAssertEqual(cluster.configuration(1).clientKeepaliveIntervalMs, 2_000)
            proxy.relay(to: cluster.configuration(1).clientPort)
            let alice = try cluster.client(1, as: "alice", port: proxy.port) { $0.stallProbeIntervalMs = nil }
            _ = try await alice.call(.cartCreate, CreateCartRequest(cart: "hung", request: Keys.next()))
            let stream = try await alice.stream(.syncWatch, WatchRequest(cart: "hung", fromSeq: 0))
            let first = try await collect(stream, count: 1)
            XCTAssertEqual(first.map(\.seq), [1])

            proxy.blackHole()
            let ended = await assertRPCError(.unavailable) { _ = try await collect(stream, count: 1, seconds: 15) }
            XCTAssertTrue(ended?.message.contains("keepalive") == true, "\(String(describing: ended))")
        } catch {
            await cluster.shutdown()
            await proxy.stop()
            try? await group.shutdownGracefully()
            throw error
        }
        await cluster.shutdown()
        await proxy.stop()
        try await group.shutdownGracefully()
    }
}
