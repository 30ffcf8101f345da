import CartAPI
import CartClient
import CartDomain
import CartRPC
import CartTypes
import CartWire
import CartTestSupport
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import XCTest

/// The client against real servers on loopback that answer as scripted.
final class RoutingAndRetryTests: XCTestCase {
    private var nodes: [FakeNode] = []
    private var clients: [CartClient] = []

    override func tearDown() async throws {
        for client in clients { await client.shutdown() }
        for node in nodes { await node.shutdown() }
        clients = []
        nodes = []
    }

    private func startNodes(_ count: Int, _ script: (FakeNode, [FakeNode]) -> Void) async throws {
        nodes = (0..<count).map { _ in FakeNode() }
        // Bind first so every script can name every node's address in its hints.
        for node in nodes { try await node.start() }
        for node in nodes { script(node, nodes) }
    }

    private func client(_ configuration: CartClientConfiguration) -> CartClient {
        let client = CartClient(configuration: configuration)
        clients.append(client)
        return client
    }

    private static func reply(_ seq: UInt64) -> CartWriteReply {
        CartWriteReply(cart: "cart-1", version: Version(seq), seq: Seq(seq))
    }

    // Story: the client asks node A, which is not the leader and names node B. The client
    // goes to B, whose first answer is "unavailable" and second a success. Every attempt
    // carries the same request key, so the partition can apply the add once.
    func testRedirectIsFollowedAndEveryRetryCarriesTheSameRequestKey() async throws {
        try await startNodes(2) { node, all in
            if node === all[0] {
                node.onAddItem { _ in
                    throw RPCError(.notLeader, "node 1 does not lead p3",
                                   leaderHint: LeaderHint(nodeID: 2, address: all[1].endpoint.description))
                }
            } else {
                node.onAddItem { call in
                    if call == 0 { throw RPCError(.unavailable, "no quorum yet", retryAfterMs: 5) }
                    return Self.reply(7)
                }
            }
        }
        let client = client(.test([nodes[0].endpoint]))
        let reply = try await client.addItem("cart-1", item: "sku-1", quantity: 1)
        XCTAssertEqual(reply.seq, 7)
        let keys = nodes[0].addItemKeys + nodes[1].addItemKeys
        XCTAssertEqual(nodes[1].addItemKeys.count, 2, "the leader was asked until it answered")
        XCTAssertEqual(Set(keys).count, 1, "one logical request, one key: \(keys)")
    }

    // Story: four nodes; the cluster's status (node 1's, which hosts none of them) names
    // nodes 2, 4 and 3 (the leader) as the replicas of the cart's partition. Local reads with no node named go to those three in
    // turn, none to node 1, which would only refuse them (no replica there) and send the
    // client on; a linearizable read goes to the leader. Once node 2 stops answering, the
    // other two serve.
    func testLocalReadsGoToTheCartPartitionsReplicasInTurn() async throws {
        let cart = CartID("cart-1")
        let partition = PartitionMap(partitionCount: 4).partition(of: cart)
        try await startNodes(4) { node, all in
            let id = NodeID(UInt64(all.firstIndex { $0 === node }! + 1))
            node.onClusterStatus { _ in
                let members = all.enumerated().map { NodeAddress(node: NodeID(UInt64($0.offset + 1)), clientAddress: $0.element.endpoint.description) }
                // Node 1 hosts no replica of the partition, so only `placement` names them.
                let replicas = PartitionReplicas(partition: partition, replicas: [2, 4, 3].map { NodeID($0) })
                return ClusterStatusReply(node: id, nodes: members, partitionCount: 4, partitions: [], placement: [replicas])
            }
            node.onGetCart { request in
                guard request.local == true || id == 3 else { throw RPCError(.notLeader, "node \(id) does not lead \(partition)") }
                guard [2, 3, 4].contains(id.rawValue) else {
                    throw RPCError(.unavailable, "node \(id) does not host \(partition)",
                                   leaderHint: LeaderHint(nodeID: 2, address: all[1].endpoint.description), retryAfterMs: 5)
                }
                return CartReply(cart: Cart(id: cart, owner: "alice", createdAt: Timestamp(millisecondsSinceEpoch: 1)), servedBy: ReplicaPosition(node: id, appliedIndex: .zero,
                                                                                                   commitIndex: .zero, leader: 3))
            }
        }
        let client = client(.test([nodes[0].endpoint]))
        var servedBy: [NodeID] = []
        for _ in 0..<8 {
            let reply = try await client.readCart(cart, .local(at: nil))
            servedBy.append(try XCTUnwrap(reply.servedBy?.node))
        }
        XCTAssertEqual(nodes[0].cartGets, 0, "node 1 hosts no replica: \(servedBy)")
        XCTAssertEqual(Set(servedBy), [2, 3, 4], "spread over the replicas: \(servedBy)")
        XCTAssertEqual(client.retries, 0)

        // Node 1 knows no leader of the partition: a linearizable read may be sent there first,
        // and is refused on to the leader.
        let leaderGets = nodes[2].cartGets
        _ = try await client.readCart(cart, .linearizable)
        XCTAssertEqual(nodes[2].cartGets, leaderGets + 1, "a linearizable read goes to the leader")
        let nodeOneGets = nodes[0].cartGets

        await nodes[1].shutdown()
        for _ in 0..<4 {
            let reply = try await client.readCart(cart, .local(at: nil))
            XCTAssertNotEqual(reply.servedBy?.node, 2)
        }
        XCTAssertEqual(nodes[0].cartGets, nodeOneGets, "no local read went to node 1")
    }

    // Story: the leader answers "unavailable, retry after 150 ms" with a hint naming itself
    // (it leads but is not ready yet). That is no redirect: the client waits as told before
    // each retry instead of asking the same node again at once.
    func testAHintNamingTheNodeJustAskedIsNoReasonToSkipTheWait() async throws {
        try await startNodes(1) { node, all in
            node.onAddItem { call in
                if call < 2 {
                    throw RPCError(.unavailable, "not ready", leaderHint: LeaderHint(nodeID: 1, address: all[0].endpoint.description),
                                   retryAfterMs: 150)
                }
                return Self.reply(3)
            }
        }
        let started = ContinuousClock.now
        let reply = try await client(.test([nodes[0].endpoint])).addItem("cart-1", item: "sku-1", quantity: 1)
        XCTAssertEqual(reply.seq, 3)
        XCTAssertEqual(nodes[0].addItemKeys.count, 3)
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .milliseconds(300), "two waits of at least 150 ms")
    }

    // Story: the client starts while the cluster is not up yet, so its first request finds
    // no cluster status to learn the partitions from, and goes to any node. A second one a
    // moment later does not ask again; one after the retry interval does, and from then on
    // the client knows the map and asks no more.
    func testRoutingIsLearnedAgainWhenTheFirstStatusReadFailed() async throws {
        try await startNodes(1) { node, all in
            node.onClusterStatus { call in
                if call == 0 { throw RPCError(.unavailable, "starting") }
                return ClusterStatusReply(node: 1, nodes: [NodeAddress(node: 1, clientAddress: all[0].endpoint.description)],
                                          partitionCount: 4, partitions: [])
            }
            node.onAddItem { call in Self.reply(UInt64(call + 1)) }
        }
        // One attempt per call, so the first status read fails for good (as it would once
        // its retries ran out against a cluster still starting).
        var configuration = CartClientConfiguration.test([nodes[0].endpoint])
        configuration.retryPolicy = try .init(attemptsMax: 1, backoffBaseMs: 1, backoffMaxMs: 5, attemptTimeMinMs: 1)
        let client = client(configuration)
        _ = try await client.addItem("cart-1", item: "sku-1", quantity: 1)
        _ = try await client.addItem("cart-1", item: "sku-1", quantity: 1)
        XCTAssertEqual(nodes[0].clusterStatusCalls, 1, "no second read before the retry interval")
        try await Task.sleep(for: .milliseconds(1_100))  // past the client's 1 s retry interval
        _ = try await client.addItem("cart-1", item: "sku-1", quantity: 1)
        XCTAssertEqual(nodes[0].clusterStatusCalls, 2, "read again after the retry interval")
        try await Task.sleep(for: .milliseconds(1_100))  // past the client's 1 s retry interval
        _ = try await client.addItem("cart-1", item: "sku-1", quantity: 1)
        XCTAssertEqual(nodes[0].clusterStatusCalls, 2, "learned: not read again")
    }

    // Story: every node stays unavailable. The client retries with backoff but gives up
    // within its attempt budget, reporting the last error and how often it tried.
    func testRetryableFailuresAreRetriedABoundedNumberOfTimes() async throws {
        try await startNodes(1) { node, _ in
            node.onAddItem { _ in throw RPCError(.unavailable, "no quorum", retryAfterMs: 1) }
        }
        var configuration = CartClientConfiguration.test([nodes[0].endpoint])
        configuration.retryPolicy = try .init(attemptsMax: 4, backoffBaseMs: 1, backoffMaxMs: 5, attemptTimeMinMs: 1)
        let client = client(configuration)
        do {
            _ = try await client.addItem("cart-1", item: "sku-1", quantity: 1)
            XCTFail("an unavailable cluster cannot succeed")
        } catch {
            XCTAssertEqual(error.code, .unavailable)
            XCTAssertEqual(error.attempts, 4)
            XCTAssertEqual(nodes[0].addItemKeys.count, 4)
            XCTAssertTrue(error.description.contains("gave up after 4 attempts"), error.description)
        }
        XCTAssertEqual(client.retries, 3, "the attempts after the first, counted for the caller's figures")
    }

    // Story: the answer is a refusal (permission denied, a version conflict): sending it
    // again cannot help, so the client does not, and the message reads as the server wrote
    // it without the domain's numeric prefix.
    func testRefusalsAreNotRetriedAndReadAsTheServerWroteThem() async throws {
        try await startNodes(1) { node, _ in
            node.onAddItem { call in
                if call == 0 { throw RPCError(.permissionDenied, "[7] permission denied for user carol") }
                throw RPCError(.versionConflict, "[9] version conflict: cart is at version 7", currentVersion: 7)
            }
        }
        let client = client(.test([nodes[0].endpoint]))
        do {
            _ = try await client.addItem("cart-1", item: "sku-1", quantity: 1)
            XCTFail("refused")
        } catch {
            XCTAssertEqual(error.code, .permissionDenied)
            XCTAssertEqual(error.domainCode, 7)
            XCTAssertEqual(error.description, "permission denied for user carol")
        }
        do {
            _ = try await client.addItem("cart-1", item: "sku-1", quantity: 1, expectedVersion: 6)
            XCTFail("conflict")
        } catch {
            XCTAssertEqual(error.code, .versionConflict)
            XCTAssertEqual(error.currentVersion, 7)
            XCTAssertEqual(error.description, "version conflict: cart is at version 7")
        }
        XCTAssertEqual(nodes[0].addItemKeys.count, 2, "one attempt each")
        XCTAssertEqual(client.retries, 0)
    }

    // Story: the first node's watch stream breaks after #3 (it goes away); the second node
    // is asked to resume from #4 and streams #4…#6. The watcher sees #1…#6 once each.
    func testWatchResumesOnAnotherNodeFromTheSeqAfterTheLastDelivered() async throws {
        try await startNodes(2) { node, all in
            let first = node === all[0]
            node.onWatch { from, _ in
                if first {
                    return ((from.rawValue...3).map { FakeNode.event($0) }, RPCError(.unavailable, "node stopping"))
                }
                return ((from.rawValue...6).map { FakeNode.event($0) }, nil)
            }
        }
        var configuration = CartClientConfiguration.test([nodes[0].endpoint, nodes[1].endpoint])
        configuration.followLeaders = false
        let counters = WatchCounters()
        var seqs: [UInt64] = []
        for try await event in client(configuration).watch("cart-1", counters: counters) {
            seqs.append(event.seq.rawValue)
            if seqs.count == 6 { break }
        }
        XCTAssertEqual(seqs, [1, 2, 3, 4, 5, 6])
        XCTAssertGreaterThanOrEqual(counters.resumes, 1)
        XCTAssertEqual(nodes[1].watchRequests.first, 4, "resumed after the last delivered seq")
    }

    // Story: four nodes; the cluster's status names nodes 2 and 3 as the replicas of the
    // cart's partition and no leader. A watch opens on one of them (node 1, the one the
    // client was given, would refuse it: only replicas serve watches), and when that one
    // ends it, resumes on the other, never on a node that hosts no replica.
    func testAWatchOpensAndResumesOnTheCartPartitionsReplicas() async throws {
        let partition = PartitionMap(partitionCount: 4).partition(of: CartID("cart-1"))
        try await startNodes(4) { node, all in
            let id = NodeID(UInt64(all.firstIndex { $0 === node }! + 1))
            node.onClusterStatus { _ in
                let members = all.enumerated().map { NodeAddress(node: NodeID(UInt64($0.offset + 1)), clientAddress: $0.element.endpoint.description) }
                return ClusterStatusReply(node: id, nodes: members, partitionCount: 4, partitions: [],
                                          placement: [PartitionReplicas(partition: partition, replicas: [2, 3])])
            }
            node.onWatch { from, call in
                guard id == 2 || id == 3 else { return ([], RPCError(.unavailable, "node \(id) does not host \(partition)")) }
                if call == 0 { return ((from.rawValue...from.rawValue + 1).map { FakeNode.event($0) }, RPCError(.unavailable, "node stopping")) }
                return ((from.rawValue...6).map { FakeNode.event($0) }, nil)
            }
        }
        let counters = WatchCounters()
        var seqs: [UInt64] = []
        for try await event in client(.test([nodes[0].endpoint])).watch("cart-1", counters: counters) {
            seqs.append(event.seq.rawValue)
            if seqs.count == 6 { break }
        }
        XCTAssertEqual(seqs, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(nodes[0].watchRequests, [], "node 1 hosts no replica")
        XCTAssertEqual(nodes[3].watchRequests, [], "node 4 hosts no replica")
        XCTAssertGreaterThanOrEqual(counters.resumes, 1)
    }

    // Story: a broken node repeats an event. The watch does not pass the repeat on (nor
    // skip over it silently): it ends with an error that says what went wrong.
    func testWatchFailsLoudlyWhenANodeRepeatsOrSkipsAnEvent() async throws {
        try await startNodes(1) { node, _ in
            node.onWatch { _, _ in ([FakeNode.event(1), FakeNode.event(2), FakeNode.event(2)], nil) }
        }
        var delivered: [UInt64] = []
        do {
            for try await event in client(.test([nodes[0].endpoint])).watch("cart-1") { delivered.append(event.seq.rawValue) }
            XCTFail("the repeat must end the watch")
        } catch let error as CartClientError {
            XCTAssertEqual(error.code, .internal)
            XCTAssertTrue(error.message.contains("expected #3, received #2"), error.message)
        }
        XCTAssertEqual(delivered, [1, 2])
    }

    // Story: a program shuts its client down while a watch is open. The watch ends with
    // `cancelled` instead of reconnecting by itself, and the node is left with no connection
    // and no second watch.
    func testShutdownEndsAnOpenWatchInsteadOfReconnecting() async throws {
        try await startNodes(1) { node, _ in node.onWatchHolding(through: 2) }
        let watcher = client(.test([nodes[0].endpoint]))
        let outcome = NIOLockedValueBox<(seqs: [UInt64], error: CartClientError?, done: Bool)>(([], nil, false))
        let watching = Task {
            do {
                for try await event in watcher.watch("cart-1") { outcome.withLockedValue { $0.seqs.append(event.seq.rawValue) } }
                outcome.withLockedValue { $0.done = true }
            } catch {
                outcome.withLockedValue { $0.error = error as? CartClientError; $0.done = true }
            }
        }
        defer { watching.cancel() }
        try await eventually(10, "the watch delivered #1 and #2") { outcome.withLockedValue { $0.seqs } == [1, 2] }

        await watcher.shutdown()
        try await eventually(5, "the watch ended") { outcome.withLockedValue { $0.done } }
        XCTAssertEqual(outcome.withLockedValue { $0.error?.code }, .cancelled)
        try await Task.sleep(for: .milliseconds(300))
        XCTAssertEqual(nodes[0].watchRequests.count, 1, "no watch was opened again after the shutdown")
        let node = nodes[0]
        try await eventually(5, "the node has no connection left") { node.server.connectionCount == 0 }
    }

    // Story: node A hangs (it accepts TCP connections and never answers); B serves. The first
    // request sent to A pays the connect timeout and is retried on B, and A is left alone for
    // the hold. When the hold is over and A still hangs, requests must not find out again each
    // in turn: one connection attempt in the background does, and meanwhile every request
    // goes to B at once, with no retry.
    func testAHungNodeIsProbedAfterItsHoldInsteadOfCostingARequestItsConnectTimeout() async throws {
        try await startNodes(1) { node, _ in node.onAddItem { call in Self.reply(UInt64(call + 1)) } }
        let hung = try await SilentListener.start()
        defer { hung.stop() }
        var configuration = CartClientConfiguration.test([hung.endpoint, nodes[0].endpoint])
        configuration.followLeaders = false
        configuration.connectTimeoutMs = 300
        configuration.unreachableNodeHoldMs = 300
        let client = client(configuration)
        for _ in 0..<2 { _ = try await client.addItem("cart-1", item: "tea", quantity: 1) }
        XCTAssertEqual(client.retries, 1, "one request went to A first, waited for the connect, and was retried on B")

        try await Task.sleep(for: .milliseconds(400))  // A's hold is over; A still hangs
        for _ in 0..<6 { _ = try await client.addItem("cart-1", item: "tea", quantity: 1) }
        XCTAssertEqual(client.retries, 1, "no request went to A while its probe was under way")
        XCTAssertEqual(nodes[0].addItemKeys.count, 8)
    }
}

/// A TCP listener on loopback that accepts connections and never answers: a hung node.
private final class SilentListener: @unchecked Sendable {
    let channel: any Channel
    var endpoint: Endpoint { Endpoint(host: "127.0.0.1", port: channel.localAddress?.port ?? 0) }

    private init(channel: any Channel) { self.channel = channel }

    static func start() async throws -> SilentListener {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { _ in MultiThreadedEventLoopGroup.singleton.next().makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0).get()
        return SilentListener(channel: channel)
    }

    func stop() { channel.close(promise: nil) }
}
