import CartTLS
import NIOCore
import NIOPosix
import XCTest

/// Peers that must not get through: the wrong CA, an expired certificate, the wrong name,
/// no client certificate where one is required, and clients that do not speak TLS at all.
/// Each is refused with an error that says which of these it was.
final class TLSRejectionTests: XCTestCase {
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

    func context(cert: String?, ca: String? = nil, requireClientCertificate: Bool = false, handshakeTimeoutMs: Int64 = 10_000) throws -> TLSContext {
        try TLSContext(configuration: TLSConfiguration(
            certificateChainPath: cert.map { pki.path("\($0).pem") },
            privateKeyPath: cert.map { pki.path("\($0).key") },
            trustedCAPath: ca ?? pki.caPath,
            requireClientCertificate: requireClientCertificate,
            handshakeTimeoutMs: handshakeTimeoutMs
        ))
    }

    /// Connects a client to a server presenting `serverCert`; returns what each side saw.
    func attempt(
        serverCert: String, clientCert: String? = nil, requireClientCertificate: Bool = false,
        expectedPeerName: String = "localhost"
    ) throws -> (server: (any Error)?, client: (any Error)?) {
        let serverSignals = ProbeSignals()
        let clientSignals = ProbeSignals()
        let server = try Loopback.startServer(
            group: group, tls: try context(cert: serverCert, requireClientCertificate: requireClientCertificate),
            signals: serverSignals)
        defer { try? server.close().wait() }
        _ = try Loopback.connect(
            group: group, port: server.localAddress!.port!, tls: try context(cert: clientCert),
            expectedPeerName: expectedPeerName, signals: clientSignals)
        return (try serverSignals.firstError(),
                try clientSignals.firstError())
    }

    // A server whose certificate was issued by some other CA is not one of ours.
    func testServerCertificateFromAnotherCAIsRejectedAsUntrusted() throws {
        let seen = try attempt(serverCert: "other/node-1")
        XCTAssertTLSError(seen.client, .peerCertificateUntrusted)
        XCTAssertTrue("\(seen.client!)".contains("unable to get local issuer certificate"), "\(seen.client!)")
    }

    // A certificate that expired in 2020 is refused even though our CA signed it.
    func testExpiredServerCertificateIsRejected() throws {
        let seen = try attempt(serverCert: "expired")
        XCTAssertTLSError(seen.client, .peerCertificateExpired)
        XCTAssertTrue("\(seen.client!)".contains("certificate has expired"), "\(seen.client!)")
    }

    // A valid certificate for another host does not authenticate this one: by DNS name...
    func testServerCertificateForAnotherHostNameIsRejected() throws {
        let seen = try attempt(serverCert: "mismatch", expectedPeerName: "localhost")
        XCTAssertTLSError(seen.client, .peerNameMismatch)
        XCTAssertTrue("\(seen.client!)".contains("hostname mismatch"), "\(seen.client!)")
    }

    // ...and by IP address.
    func testServerCertificateForAnotherIPAddressIsRejected() throws {
        let seen = try attempt(serverCert: "mismatch", expectedPeerName: "127.0.0.1")
        XCTAssertTLSError(seen.client, .peerNameMismatch)
    }

    // A node dialling "node-2" that reaches node-1 must notice, even though node-1's
    // certificate is valid and from the cluster CA.
    func testNodeCertificateDoesNotAuthenticateAnotherNode() throws {
        let seen = try attempt(serverCert: "node-1", expectedPeerName: "node-2")
        XCTAssertTLSError(seen.client, .peerNameMismatch)
    }

    // Mutual TLS: a client without a certificate is refused by the server, and the client
    // is told the server wanted one (in TLS 1.3 it learns this just after its handshake).
    func testMutualTLSServerRejectsClientWithoutCertificate() throws {
        let seen = try attempt(serverCert: "node-1", clientCert: nil, requireClientCertificate: true)
        XCTAssertTLSError(seen.server, .peerCertificateMissing)
        XCTAssertTLSError(seen.client, .certificateRequiredByPeer)
    }

    // Mutual TLS: a client certificate from another CA is refused by the server.
    func testMutualTLSServerRejectsClientCertificateFromAnotherCA() throws {
        let seen = try attempt(serverCert: "node-1", clientCert: "other/node-1", requireClientCertificate: true)
        XCTAssertTLSError(seen.server, .peerCertificateUntrusted)
        XCTAssertNotNil(seen.client)
    }

    // Mutual TLS: an expired client certificate is refused by the server.
    func testMutualTLSServerRejectsExpiredClientCertificate() throws {
        let seen = try attempt(serverCert: "node-1", clientCert: "expired", requireClientCertificate: true)
        XCTAssertTLSError(seen.server, .peerCertificateExpired)
    }

    // A client sending plaintext HTTP (or any garbage) is dropped as soon as its first bytes
    // arrive, long before the handshake timeout, and the server goes on serving TLS clients.
    func testGarbageClientIsRejectedPromptlyAndServerKeepsServing() throws {
        let serverSignals = ProbeSignals()
        // An hour: only recognising the garbage can close the connection within the wait below.
        let serverContext = try context(cert: "node-1", handshakeTimeoutMs: 3_600_000)
        let server = try Loopback.startServer(group: group, tls: serverContext, signals: serverSignals)
        defer { try? server.close().wait() }
        let port = server.localAddress!.port!

        let plainSignals = ProbeSignals()
        let plain = try Loopback.connect(group: group, port: port, tls: nil, signals: plainSignals)
        try plain.writeAndFlush(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: node-1\r\n\r\n")).wait(within: 20)
        try plain.closeFuture.wait(within: 20)
        XCTAssertTLSError(try serverSignals.firstError(), .handshakeFailed)

        let goodSignals = ProbeSignals()
        let good = try Loopback.connect(group: group, port: port, tls: try context(cert: nil), signals: goodSignals)
        defer { try? good.close().wait() }
        XCTAssertEqual(try goodSignals.handshake().peer?.commonName, "node-1")
    }

    // A client that connects and says nothing holds a connection only until the handshake
    // timeout.
    func testSilentClientIsDisconnectedAtHandshakeTimeout() throws {
        let serverSignals = ProbeSignals()
        let server = try Loopback.startServer(
            group: group, tls: try context(cert: "node-1", handshakeTimeoutMs: 200), signals: serverSignals)
        defer { try? server.close().wait() }
        let silentSignals = ProbeSignals()
        let silent = try Loopback.connect(group: group, port: server.localAddress!.port!, tls: nil, signals: silentSignals)
        try silent.closeFuture.wait(within: 20)
        XCTAssertTLSError(try serverSignals.firstError(), .handshakeTimeout)
    }

    // A client that insists on TLS 1.3 (the default) cannot be talked down to 1.2.
    func testMinimumVersionIsEnforced() throws {
        // The server here allows 1.2 but the client's default minimum is 1.3, so they agree
        // on 1.3; a 1.2-only peer is tested against openssl s_server in the interop tests.
        let serverSignals = ProbeSignals()
        let clientSignals = ProbeSignals()
        let server = try Loopback.startServer(
            group: group,
            tls: try TLSContext(configuration: TLSConfiguration(
                certificateChainPath: pki.path("node-1.pem"), privateKeyPath: pki.path("node-1.key"),
                trustedCAPath: pki.caPath, minimumVersion: .tls12)),
            signals: serverSignals)
        defer { try? server.close().wait() }
        let client = try Loopback.connect(group: group, port: server.localAddress!.port!, tls: try context(cert: nil), signals: clientSignals)
        defer { try? client.close().wait() }
        XCTAssertEqual(try clientSignals.handshake().protocolVersion, "TLSv1.3")
    }

    // Bad configuration is a typed error at context creation, not a crash or a later surprise.
    func testUnusableConfigurationIsRefusedWithClearErrors() throws {
        XCTAssertThrowsError(try TLSContext(configuration: TLSConfiguration(
            certificateChainPath: pki.path("missing.pem"), privateKeyPath: pki.path("node-1.key")))) {
            XCTAssertTLSError($0, .invalidConfiguration)
        }
        XCTAssertThrowsError(try TLSContext(configuration: TLSConfiguration(
            certificateChainPath: pki.path("node-1.pem"), privateKeyPath: pki.path("node-2.key")))) {
            XCTAssertTLSError($0, .credentialsRejected)
        }
        XCTAssertThrowsError(try TLSContext(configuration: TLSConfiguration(certificateChainPath: pki.path("node-1.pem")))) {
            XCTAssertTLSError($0, .invalidConfiguration)
        }
        XCTAssertThrowsError(try TLSContext(configuration: TLSConfiguration(trustedCAPath: pki.path("node-1.key")))) {
            XCTAssertTLSError($0, .credentialsRejected)
        }
    }
}
