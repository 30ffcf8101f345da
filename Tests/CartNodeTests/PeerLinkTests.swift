import CartAPI
import CartTestSupport
@testable import CartNode
import CartRaft
import CartRPC
import CartTLS
import CartTypes
import CartWire
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import XCTest

/// What a peer link tells the replicas about snapshot messages it could not deliver.
final class PeerLinkTests: XCTestCase {
    /// Raft pauses a follower while its snapshot is on the way, until it hears how the
    /// delivery went. Right after a follower restarts, the leader may hear from it before its
    /// own link to the follower has reconnected; a snapshot queued then is dropped for want
    /// of a connection. The link must report it failed, or the leader would wait for it
    /// forever and the follower would never catch up. Here the follower's peer port has no
    /// listener at all: the real link (real client, real TLS context) drops the batch and
    /// reports the snapshot, and only the snapshot, as failed.
    func testASnapshotDroppedForWantOfAConnectionIsReportedFailed() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let port = try freePorts(1)[0]
        let members = [
            ClusterMember(id: 1, peerAddress: "127.0.0.1:1", clientAddress: "127.0.0.1:1"),
            ClusterMember(id: 2, peerAddress: "127.0.0.1:\(port)", clientAddress: "127.0.0.1:1"),
        ]
        let metrics = NodeMetrics()
        let transport = PeerTransport(node: 1, members: members, tls: try NodeTestPKI.clientTLS.get(), eventLoopGroup: group,
                                      metrics: metrics, logger: Logger(label: "peer-link-test"))
        let listener = DeliveryLog()

        var snapshot = Message(kind: .snapshot, from: 1, to: 2, term: 3)
        snapshot.snapshot = Snapshot(metadata: SnapshotMetadata(index: 40, term: 3, configuration: Configuration(voters: [1, 2])),
                                     data: [1, 2, 3])
        var append = Message(kind: .append, from: 1, to: 2, term: 3)
        append.index = 40
        append.logTerm = 3
        transport.send([append, snapshot], partition: 5, replica: listener)

        let reports = try await listener.wait(count: 1, seconds: 10)
        XCTAssertEqual(reports, [DeliveryLog.Report(to: 2, partition: 5, succeeded: false)])
        XCTAssertEqual(metrics.value(.raftMessagesDropped), 2, "both messages were dropped")
        XCTAssertEqual(metrics.value(.raftSnapshotsUndelivered), 1, "one snapshot did not arrive")
        try await Task.sleep(for: .milliseconds(200))
        XCTAssertEqual(listener.reports.count, 1, "the append is not reported: Raft resends it on its own")

        await transport.shutdown()
        try await group.shutdownGracefully()
    }

    /// A snapshot far larger than a peer frame (16 MiB) goes from a real link to a real peer
    /// server (mutual TLS, node certificates) in pieces and arrives whole, byte for byte; the
    /// leader hears it arrived.
    func testASnapshotLargerThanAFrameArrivesWholeInPieces() async throws {
        try await withPeerServer { server, transport, metrics, delivered, _ in
            let data = (0..<(24 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
            let message = Self.snapshotMessage(data: data)
            let listener = DeliveryLog()
            transport.send([message], partition: 5, replica: listener)

            let reports = try await listener.wait(count: 1, seconds: 60)
            XCTAssertEqual(reports, [DeliveryLog.Report(to: 2, partition: 5, succeeded: true)])
            let received = delivered.withLockedValue { $0 }
            XCTAssertEqual(received.count, 1)
            XCTAssertEqual(received.first?.0, 5)
            XCTAssertTrue(received.first?.1 == message, "the follower got the snapshot byte for byte")
            XCTAssertEqual(metrics.value(.raftSnapshotChunksSent), 24, "1 MiB pieces")
            XCTAssertEqual(metrics.value(.raftSnapshotsSent), 1)
            XCTAssertEqual(metrics.value(.raftSnapshotsUndelivered), 0)
        }
    }

    /// A follower that will not take the snapshot (longer than it accepts) refuses the first
    /// piece; the leader hears the delivery failed, and the follower holds nothing.
    func testASnapshotTheFollowerRefusesIsReportedFailed() async throws {
        try await withPeerServer(transferBytesMax: 100_000) { server, transport, metrics, delivered, assembler in
            let listener = DeliveryLog()
            transport.send([Self.snapshotMessage(data: Array(repeating: 1, count: 300_000))], partition: 5, replica: listener)
            let reports = try await listener.wait(count: 1, seconds: 20)
            XCTAssertEqual(reports, [DeliveryLog.Report(to: 2, partition: 5, succeeded: false)])
            XCTAssertEqual(metrics.value(.raftSnapshotChunksSent), 1, "the first piece was refused; no more were sent")
            XCTAssertEqual(metrics.value(.raftSnapshotsUndelivered), 1)
            XCTAssertTrue(delivered.withLockedValue { $0.isEmpty })
            XCTAssertEqual(assembler.unfinished.count, 0)

            // The same link still delivers a snapshot the follower accepts.
            let small = Self.snapshotMessage(data: Array(repeating: 2, count: 50_000))
            transport.send([small], partition: 5, replica: listener)
            let after = try await listener.wait(count: 2, seconds: 20)
            XCTAssertEqual(after.last, DeliveryLog.Report(to: 2, partition: 5, succeeded: true))
            XCTAssertTrue(delivered.withLockedValue { $0.last?.1 } == small)
        }
    }

    /// The last piece is answered when the follower's replica has the message (after its
    /// state is decoded), not when the bytes are in: a leader told "delivered" earlier probes
    /// the follower, hears it is still behind, and sends the whole snapshot again.
    func testTheLeaderHearsOfTheDeliveryOnlyOnceTheReplicaHasTheSnapshot() async throws {
        let handedOver = NIOLockedValueBox<EventLoopPromise<Void>?>(nil)
        try await withPeerServer(handOver: { promise in handedOver.withLockedValue { $0 = promise } }) { _, transport, _, delivered, _ in
            let listener = DeliveryLog()
            transport.send([Self.snapshotMessage(data: Array(repeating: 3, count: 3 << 20))], partition: 5, replica: listener)
            try await eventually(20, "the follower has every piece") { handedOver.withLockedValue { $0 } != nil }
            try await Task.sleep(for: .milliseconds(300))
            XCTAssertTrue(listener.reports.isEmpty, "no report while the replica has not taken the snapshot")
            XCTAssertEqual(delivered.withLockedValue { $0.count }, 1)
            handedOver.withLockedValue { $0 }?.succeed()
            let reports = try await listener.wait(count: 1, seconds: 20)
            XCTAssertEqual(reports, [DeliveryLog.Report(to: 2, partition: 5, succeeded: true)])
        }
    }

    private static func snapshotMessage(data: [UInt8]) -> Message {
        var message = Message(kind: .snapshot, from: 1, to: 2, term: 3)
        message.snapshot = Snapshot(metadata: SnapshotMetadata(index: 40, term: 3, configuration: Configuration(voters: [1, 2, 3])),
                                    data: data)
        return message
    }

    /// A real peer server for node 2 (mutual TLS, node certificates only) serving
    /// `Peer.snapshot` into a list of delivered messages, and node 1's real transport to it.
    private func withPeerServer(
        transferBytesMax: UInt64 = SnapshotAssembler.Limits.default.transferBytesMax,
        handOver: (@Sendable (EventLoopPromise<Void>) -> Void)? = nil,
        _ body: (RPCServer, PeerTransport, NodeMetrics, NIOLockedValueBox<[(PartitionID, Message)]>, SnapshotAssembler) async throws -> Void
    ) async throws {
        let pki = try NodeTestPKI.shared.get()
        func tls(_ node: Int) throws -> TLSContext {
            try TLSContext(configuration: .mutualTLS(certificateChainPath: pki.appendingPathComponent("node-\(node).pem").path,
                                                     privateKeyPath: pki.appendingPathComponent("node-\(node).key").path,
                                                     trustedCAPath: pki.appendingPathComponent("ca.pem").path))
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var configuration = RPCServerConfiguration(host: "127.0.0.1", port: 0, security: .tls(try tls(2)), identity: "node-2",
                                                   nodeID: 2, eventLoopGroup: group, authenticate: PeerGateway.authenticator)
        configuration.frameBytesMax = FrameLimits.frameBytesHardCap
        let server = RPCServer(configuration: configuration, logger: Logger(label: "peer-server-test"))
        let assembler = SnapshotAssembler(limits: .init(transferBytesMax: transferBytesMax, idleMs: 60_000))
        let delivered = NIOLockedValueBox<[(PartitionID, Message)]>([])
        let serverMetrics = NodeMetrics()
        let deliveryLoop = group.next()
        assembler.serve(on: server, metrics: serverMetrics, logger: Logger(label: "peer-server-test")) { partition, message in
            delivered.withLockedValue { $0.append((partition, message)) }
            let promise = deliveryLoop.makePromise(of: Void.self)
            if let handOver { handOver(promise) } else { promise.succeed() }
            return promise.futureResult
        }
        let metrics = NodeMetrics()
        var transport: PeerTransport?
        do {
            let port = try await server.start()
            let members = [
                ClusterMember(id: 1, peerAddress: "127.0.0.1:1", clientAddress: "127.0.0.1:1"),
                ClusterMember(id: 2, peerAddress: "127.0.0.1:\(port)", clientAddress: "127.0.0.1:1"),
            ]
            let link = PeerTransport(node: 1, members: members, tls: try tls(1), eventLoopGroup: group, metrics: metrics,
                                     logger: Logger(label: "peer-link-test"))
            transport = link
            // The link connects on its first message; wait until a heartbeat gets through.
            try await eventually(10, "the link connects") {
                link.send([Message(kind: .heartbeat, from: 1, to: 2, term: 3)], partition: 5, replica: nil)
                return metrics.value(.raftBatchesSent) > 0
            }
            try await body(server, link, metrics, delivered, assembler)
        } catch {
            await transport?.shutdown()
            await server.shutdown()
            try await group.shutdownGracefully()
            throw error
        }
        await transport?.shutdown()
        await server.shutdown()
        try await group.shutdownGracefully()
    }
}

/// Records snapshot delivery reports, as a replica would hear them.
private final class DeliveryLog: SnapshotDeliveryListener {
    struct Report: Hashable {
        let to: NodeID
        let partition: PartitionID
        let succeeded: Bool
    }

    private let box = NIOLockedValueBox<[Report]>([])

    var reports: [Report] { box.withLockedValue { $0 } }

    func snapshotDelivered(to node: NodeID, partition: PartitionID, succeeded: Bool) {
        box.withLockedValue { $0.append(Report(to: node, partition: partition, succeeded: succeeded)) }
    }

    func wait(count: Int, seconds: Double) async throws -> [Report] {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            let reports = self.reports
            if reports.count >= count { return reports }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("no \(count) delivery reports within \(seconds) s; got \(reports)")
    }
}

/// Who may speak on the peer port: a node whose certificate names the node id its hello claims.
final class PeerGatewayTests: XCTestCase {
    private func authenticate(claiming node: NodeID?, role: PeerRole = .node, _ peer: PeerIdentity?) -> RPCError? {
        let hello = Hello(role: role, identity: "test", nodeID: node)
        switch PeerGateway.authenticator(hello, peer) {
        case .success(let principal):
            XCTAssertEqual(principal.nodeID, node)
            return nil
        case .failure(let error):
            return error
        }
    }

    func testOnlyACertificateNamingTheClaimedNodeSpeaksForIt() {
        let node1 = PeerIdentity(commonName: "node-1", dnsNames: ["node-1", "localhost"], ipAddresses: ["127.0.0.1"])
        XCTAssertNil(authenticate(claiming: 1, node1))
        XCTAssertNil(authenticate(claiming: 1, PeerIdentity(commonName: "n1.example", dnsNames: ["node-1"], ipAddresses: [])),
                     "a DNS name is enough")
        XCTAssertEqual(authenticate(claiming: 3, node1)?.code, .unauthenticated, "node 1's certificate cannot speak for node 3")
        let cartctl = PeerIdentity(commonName: "cartctl", dnsNames: ["cartctl"], ipAddresses: [])
        XCTAssertEqual(authenticate(claiming: 1, cartctl)?.code, .unauthenticated, "a client certificate of the same CA is no node")
        XCTAssertEqual(authenticate(claiming: 1, PeerIdentity(commonName: "node-10", dnsNames: [], ipAddresses: []))?.code,
                       .unauthenticated)
        XCTAssertNil(authenticate(claiming: 1, PeerIdentity(commonName: "node-1", dnsNames: [], ipAddresses: ["127.0.0.1"])),
                     "the common name counts in a certificate without DNS names")
        XCTAssertNil(authenticate(claiming: 1, PeerIdentity(commonName: "x", dnsNames: ["Node-1"], ipAddresses: [])),
                     "host names compare without regard to case, as when dialling")
        XCTAssertEqual(authenticate(claiming: 1, PeerIdentity(commonName: "node-1", dnsNames: ["localhost"], ipAddresses: []))?.code,
                       .unauthenticated, "a certificate with DNS names must name the node among them, as a dialling node requires")
        XCTAssertEqual(authenticate(claiming: 1, nil)?.code, .unauthenticated, "no certificate")
        XCTAssertEqual(authenticate(claiming: nil, node1)?.code, .unauthenticated, "no node id")
        XCTAssertEqual(authenticate(claiming: 1, role: .client, node1)?.code, .unauthenticated, "a client hello")
    }
}

/// A node speaks on the peer port for itself only.
final class PeerSenderTests: XCTestCase {
    // Node 2's certificate (valid, its own) opens a peer connection to node 1 as node 2.
    // Raft messages in node 2's name are taken; a batch or a message claiming to come from
    // node 3 (a vote or an append in another node's name) is refused with permissionDenied.
    func testAPeerMayNotSendRaftMessagesInAnotherNodesName() async throws {
        let cluster = try TestCluster(size: 1)
        try await cluster.startAll()
        do {
            try await cluster.waitForLeaders()
            let pki = try NodeTestPKI.shared.get()
            let tls = try TLSContext(configuration: .mutualTLS(certificateChainPath: pki.appendingPathComponent("node-2.pem").path,
                                                               privateKeyPath: pki.appendingPathComponent("node-2.key").path,
                                                               trustedCAPath: pki.appendingPathComponent("ca.pem").path))
            var configuration = RPCClientConfiguration(port: cluster.configurations[0].peerPort, security: .tls(tls, expectedPeerName: "127.0.0.1"),
                                                       identity: "node-2", role: .node)
            configuration.nodeID = 2
            configuration.connectAttemptsMax = 2
            let peer = RPCClient(configuration: configuration)
            func heartbeat(from: NodeID) -> PartitionRaftMessage {
                PartitionRaftMessage(partition: 0, message: Message(kind: .heartbeat, from: from, to: 1, term: 1))
            }
            let own = try await peer.call(.peerRaft, RaftBatch(from: 2, messages: [heartbeat(from: 2)]), timeout: .seconds(5))
            XCTAssertEqual(own.unknownPartitions, 0)
            await assertRPCError(.permissionDenied) {
                try await peer.call(.peerRaft, RaftBatch(from: 3, messages: [heartbeat(from: 3)]), timeout: .seconds(5))
            }
            await assertRPCError(.permissionDenied) {
                try await peer.call(.peerRaft, RaftBatch(from: 2, messages: [heartbeat(from: 2), heartbeat(from: 3)]), timeout: .seconds(5))
            }
            await peer.shutdown()
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    // Node 2 dials "node 3" at node 1's peer address. Node 1's certificate is valid and from
    // the same CA, but it does not name node 3: the handshake fails on the host-name check
    // and no batch goes out. Dialled as node 1, the same address takes the batches.
    func testADialledPeerMustPresentTheCertificateOfTheNodeDialled() async throws {
        let cluster = try TestCluster(size: 1)
        try await cluster.startAll()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let logs = CapturedLogs()
        var transports: [PeerTransport] = []
        do {
            try await cluster.waitForLeaders()
            let pki = try NodeTestPKI.shared.get()
            let tls = try TLSContext(configuration: .mutualTLS(certificateChainPath: pki.appendingPathComponent("node-2.pem").path,
                                                               privateKeyPath: pki.appendingPathComponent("node-2.key").path,
                                                               trustedCAPath: pki.appendingPathComponent("ca.pem").path))
            let address = "127.0.0.1:\(cluster.configurations[0].peerPort)"
            var logger = Logger(label: "test") { _ in CapturingLogHandler(logs) }
            logger.logLevel = .debug
            func transport(dialling node: NodeID, _ metrics: NodeMetrics) -> PeerTransport {
                let members = [ClusterMember(id: 2, peerAddress: "127.0.0.1:1", clientAddress: "127.0.0.1:1"),
                               ClusterMember(id: node, peerAddress: address, clientAddress: "127.0.0.1:1")]
                let made = PeerTransport(node: 2, members: members, tls: tls, eventLoopGroup: group, metrics: metrics, logger: logger)
                transports.append(made)
                return made
            }
            // An unknown partition and term 0: node 1's own groups ignore these heartbeats.
            @Sendable func heartbeat(to node: NodeID) -> Message { Message(kind: .heartbeat, from: 2, to: node, term: 0) }
            let genuineMetrics = NodeMetrics()
            let genuine = transport(dialling: 1, genuineMetrics)
            try await eventually(10, "the link to node 1 connects") {
                genuine.send([heartbeat(to: 1)], partition: 999, replica: nil)
                return genuineMetrics.value(.raftBatchesSent) > 0
            }
            let impostorMetrics = NodeMetrics()
            let impostor = transport(dialling: 3, impostorMetrics)
            try await eventually(10, "the link to \"node 3\" is refused") {
                impostor.send([heartbeat(to: 3)], partition: 999, replica: nil)
                return logs.all.contains { $0.message == "peer unreachable" && $0.metadata["error", default: ""].contains("mismatch") }
            }
            XCTAssertEqual(impostorMetrics.value(.raftBatchesSent), 0, "nothing is sent to a server that is not the node dialled")
            XCTAssertGreaterThan(impostorMetrics.value(.raftMessagesDropped), 0)
        } catch {
            for made in transports { await made.shutdown() }
            try? await group.shutdownGracefully()
            await cluster.shutdown()
            throw error
        }
        for made in transports { await made.shutdown() }
        try await group.shutdownGracefully()
        await cluster.shutdown()
    }
}
