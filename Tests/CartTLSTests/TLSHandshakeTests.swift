import CartTLS
import NIOCore
import NIOPosix
import XCTest

/// Handshakes between two `TLSHandler`s over real loopback sockets: who may connect, what
/// each side learns about the other, and how a session ends.
final class TLSHandshakeTests: XCTestCase {
    nonisolated(unsafe) static var pki: TestPKI!
    var group: MultiThreadedEventLoopGroup!

    override class func setUp() {
        pki = try! TestPKI()
    }

    override class func tearDown() {
        pki.remove()
    }

    override func setUp() {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    }

    override func tearDown() {
        try? group.syncShutdownGracefully()
    }

    var pki: TestPKI { Self.pki }

    func nodeContext(_ name: String, requireClientCertificate: Bool = true, ca: String? = nil) throws -> TLSContext {
        try TLSContext(configuration: TLSConfiguration(
            certificateChainPath: pki.path("\(name).pem"),
            privateKeyPath: pki.path("\(name).key"),
            trustedCAPath: ca ?? pki.caPath,
            requireClientCertificate: requireClientCertificate
        ))
    }

    func anonymousClientContext() throws -> TLSContext {
        try TLSContext(configuration: TLSConfiguration(trustedCAPath: pki.caPath))
    }

    // Two nodes of the cluster meet over mutual TLS: each side verifies the other's
    // certificate against the cluster CA and learns the other's name from it, which is
    // how a node knows which peer a connection belongs to.
    func testNodesShakeHandsOverMutualTLSAndLearnEachOthersIdentity() throws {
        let serverSignals = ProbeSignals()
        let clientSignals = ProbeSignals()
        let server = try Loopback.startServer(group: group, tls: try nodeContext("node-1"), signals: serverSignals)
        defer { try? server.close().wait() }
        let client = try Loopback.connect(
            group: group, port: server.localAddress!.port!, tls: try nodeContext("node-2"),
            expectedPeerName: "node-1", signals: clientSignals)
        defer { try? client.close().wait() }

        let seenByServer = try serverSignals.handshake()
        let seenByClient = try clientSignals.handshake()
        XCTAssertEqual(seenByServer.peer, PeerIdentity(commonName: "node-2", dnsNames: ["node-2", "localhost"], ipAddresses: ["127.0.0.1"]))
        XCTAssertEqual(seenByClient.peer, PeerIdentity(commonName: "node-1", dnsNames: ["node-1", "localhost"], ipAddresses: ["127.0.0.1"]))
        XCTAssertEqual(seenByClient.protocolVersion, "TLSv1.3")
        XCTAssertEqual(seenByServer.cipherSuite, seenByClient.cipherSuite)
    }

    // A client dialling by IP address: the server's certificate lists 127.0.0.1 in its
    // SAN, so verification by IP succeeds too.
    func testClientVerifiesServerByIPAddressInSubjectAltName() throws {
        let serverSignals = ProbeSignals()
        let clientSignals = ProbeSignals()
        let server = try Loopback.startServer(group: group, tls: try nodeContext("node-1", requireClientCertificate: false), signals: serverSignals)
        defer { try? server.close().wait() }
        let client = try Loopback.connect(
            group: group, port: server.localAddress!.port!, tls: try anonymousClientContext(),
            expectedPeerName: "127.0.0.1", signals: clientSignals)
        defer { try? client.close().wait() }

        XCTAssertEqual(try clientSignals.handshake().peer?.commonName, "node-1")
        // The server did not ask for a client certificate, so it knows no peer identity.
        XCTAssertNil(try serverSignals.handshake().peer)
    }

    // Data written before the handshake finishes is held, then delivered once it does;
    // the echo proves both directions of the record layer.
    func testWritesIssuedDuringHandshakeAreDeliveredAfterIt() throws {
        let serverSignals = ProbeSignals()
        let clientSignals = ProbeSignals()
        let server = try Loopback.startServer(
            group: group, tls: try nodeContext("node-1", requireClientCertificate: false), signals: serverSignals,
            autoRead: false, extraHandlers: { [BackpressuredEcho()] })
        defer { try? server.close().wait() }
        let message = "add item 42 to cart 7"
        let echoed = group.next().makePromise(of: ByteBuffer.self)
        let client = try Loopback.connect(
            group: group, port: server.localAddress!.port!, tls: try anonymousClientContext(), signals: clientSignals,
            extraHandlers: { [Collector(expectedBytes: message.utf8.count, done: echoed)] })
        defer { try? client.close().wait() }

        try client.writeAndFlush(ByteBuffer(string: message)).wait(within: 20)
        XCTAssertEqual(String(buffer: try echoed.futureResult.wait(within: 20)), message)
    }

    // A client that closes sends close_notify; the server answers with its own and neither
    // side reports an unclean shutdown.
    func testCloseSendsCloseNotifyAndThePeerSeesACleanShutdown() throws {
        let serverSignals = ProbeSignals()
        let clientSignals = ProbeSignals()
        let server = try Loopback.startServer(group: group, tls: try nodeContext("node-1", requireClientCertificate: false), signals: serverSignals)
        defer { try? server.close().wait() }
        let client = try Loopback.connect(
            group: group, port: server.localAddress!.port!, tls: try anonymousClientContext(), signals: clientSignals)
        _ = try clientSignals.handshake()
        _ = try serverSignals.handshake()

        try client.close().wait(within: 20)
        try serverSignals.inactive()
        try clientSignals.inactive()
        XCTAssertNil(try serverSignals.firstError())
        XCTAssertNil(try clientSignals.firstError())
    }

    // A peer that vanishes without close_notify may have truncated the stream: the
    // survivor is told so with a distinct error.
    func testConnectionDroppedWithoutCloseNotifyIsReportedAsUncleanShutdown() throws {
        let serverSignals = ProbeSignals()
        let clientSignals = ProbeSignals()
        let server = try Loopback.startServer(group: group, tls: try nodeContext("node-1", requireClientCertificate: false), signals: serverSignals)
        defer { try? server.close().wait() }
        let client = try Loopback.connect(
            group: group, port: server.localAddress!.port!, tls: try anonymousClientContext(), signals: clientSignals)
        _ = try clientSignals.handshake()
        _ = try serverSignals.handshake()

        // Closing through the TLS handler's own context starts below it, so no close_notify is sent.
        try client.eventLoop.submit {
            try client.pipeline.syncOperations.context(handlerType: TLSHandler.self).close(promise: nil)
        }.wait(within: 20)
        XCTAssertTLSError(try serverSignals.firstError(), .uncleanShutdown)
    }
}
