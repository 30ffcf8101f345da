import CartTLS
import NIOCore
import NIOPosix
import XCTest

/// Sends one line and completes with the first line that comes back.
final class LineExchange: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private let line: String
    private var received = ""
    private let reply: EventLoopPromise<String>

    init(send line: String, reply: EventLoopPromise<String>) {
        self.line = line
        self.reply = reply
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is TLSHandshakeCompleted {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: line + "\n")), promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += String(buffer: unwrapInboundIn(data))
        if let end = received.firstIndex(of: "\n") {
            reply.succeed(String(received[..<end]))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        reply.fail(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        reply.fail(TestFailure("closed before a reply line; got '\(received)'"))
        context.fireChannelInactive()
    }
}

/// Echoes what it reads once, then closes (sending close_notify).
final class EchoOnceThenClose: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.writeAndFlush(data, promise: nil)
        context.close(promise: nil)
    }
}

/// The handler against OpenSSL's own reference peers, `openssl s_server` and `openssl s_client`,
/// run as separate processes: proof that it speaks standard TLS, not just to itself.
final class TLSInteropTests: XCTestCase {
    nonisolated(unsafe) static var pki: TestPKI!
    static let openssl = ["/usr/bin/openssl", "/usr/local/bin/openssl", "/opt/homebrew/bin/openssl"]
        .first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/bin/openssl"
    var group: MultiThreadedEventLoopGroup!

    override class func setUp() {
        pki = try! TestPKI()
    }

    override class func tearDown() {
        pki.remove()
    }

    override func setUp() {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    override func tearDown() {
        try? group.syncShutdownGracefully()
    }

    var pki: TestPKI { Self.pki }

    /// Starts `openssl s_server` in line-reversing mode on a kernel-chosen port.
    func startReferenceServer(_ extraArguments: [String]) throws -> (BackgroundProcess, Int) {
        let server = try BackgroundProcess(Self.openssl, [
            "s_server", "-accept", "127.0.0.1:0", "-naccept", "1", "-rev",
            "-cert", pki.path("node-1.pem"), "-key", pki.path("node-1.key"), "-CAfile", pki.caPath,
        ] + extraArguments)
        let accept = try server.waitForLine(startingWith: "ACCEPT")
        guard let port = accept.split(separator: ":").last.flatMap({ Int($0) }) else {
            server.stop()
            throw TestFailure("cannot parse port from '\(accept)'")
        }
        return (server, port)
    }

    func exchangeLine(port: Int, tls: TLSContext, expectedPeerName: String, line: String) throws -> (String, ProbeSignals) {
        let reply = group.next().makePromise(of: String.self)
        let signals = ProbeSignals()
        let client = try Loopback.connect(
            group: group, port: port, tls: tls, expectedPeerName: expectedPeerName, signals: signals,
            extraHandlers: { [LineExchange(send: line, reply: reply)] })
        defer { try? client.close().wait() }
        return (try reply.futureResult.wait(within: 20), signals)
    }

    func nodeTwoContext(minimumVersion: TLSConfiguration.ProtocolVersion = .tls13) throws -> TLSContext {
        try TLSContext(configuration: TLSConfiguration(
            certificateChainPath: pki.path("node-2.pem"), privateKeyPath: pki.path("node-2.key"),
            trustedCAPath: pki.caPath, minimumVersion: minimumVersion))
    }

    // Our client against s_server requiring a client certificate: mutual TLS 1.3 with an
    // independent implementation, and data both ways (s_server reverses the line).
    func testClientTalksToOpenSSLServerOverMutualTLS() throws {
        let (server, port) = try startReferenceServer(["-Verify", "1", "-verify_return_error", "-tls1_3"])
        defer { server.stop() }
        let (reply, signals) = try exchangeLine(port: port, tls: try nodeTwoContext(), expectedPeerName: "node-1", line: "cart 7 add item 42")
        XCTAssertEqual(reply, "24 meti dda 7 trac")
        XCTAssertEqual(try signals.handshake().peer?.commonName, "node-1")
        XCTAssertTrue(server.outputSoFar.contains("CN = node-2"), server.outputSoFar)
    }

    // A TLS 1.2-only peer: accepted when the configuration allows 1.2, refused by default.
    func testTLS12OnlyServerIsAcceptedOnlyWhenConfigured() throws {
        do {
            let (server, port) = try startReferenceServer(["-tls1_2"])
            defer { server.stop() }
            let (reply, signals) = try exchangeLine(
                port: port, tls: try nodeTwoContext(minimumVersion: .tls12), expectedPeerName: "localhost", line: "abc")
            XCTAssertEqual(reply, "cba")
            XCTAssertEqual(try signals.handshake().protocolVersion, "TLSv1.2")
        }
        do {
            let (server, port) = try startReferenceServer(["-tls1_2"])
            defer { server.stop() }
            XCTAssertThrowsError(try exchangeLine(port: port, tls: try nodeTwoContext(), expectedPeerName: "localhost", line: "abc")) {
                XCTAssertTLSError($0, .handshakeFailed)
                XCTAssertTrue("\($0)".contains("protocol version"), "\($0)")
            }
        }
    }

    /// Our server with mutual TLS (node-1's certificate), echoing one line and closing.
    private func startMutualTLSEchoServer(signals: ProbeSignals) throws -> any Channel {
        try Loopback.startServer(
            group: group,
            tls: try TLSContext(configuration: .mutualTLS(
                certificateChainPath: pki.path("node-1.pem"), privateKeyPath: pki.path("node-1.key"), trustedCAPath: pki.caPath)),
            signals: signals, extraHandlers: { [EchoOnceThenClose()] })
    }

    // s_client as the client of our server with mutual TLS: it verifies our certificate
    // (chain and name), presents the CLI's certificate, and gets its line echoed back before
    // our close_notify ends the session.
    func testOpenSSLClientTalksToOurServerOverMutualTLS() throws {
        let serverSignals = ProbeSignals()
        let server = try startMutualTLSEchoServer(signals: serverSignals)
        defer { try? server.close().wait() }

        let result = try runProcess(Self.openssl, [
            "s_client", "-connect", "127.0.0.1:\(server.localAddress!.port!)", "-quiet",
            "-CAfile", pki.caPath, "-verify_return_error", "-verify_hostname", "localhost",
            "-cert", pki.path("client.pem"), "-key", pki.path("client.key"),
        ], stdin: "hello from s_client\n", timeoutSeconds: 30)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "hello from s_client\n", result.stderr)
        XCTAssertEqual(try serverSignals.handshake().peer, PeerIdentity(commonName: "cartctl", dnsNames: ["cartctl"], ipAddresses: []))
        XCTAssertNil(try serverSignals.firstError())
    }

    // A certificate whose DNS name holds a newline ("a\nD:node-1") must not come out of the
    // peer identity as two names, one of them node-1: the peer port would take it for node 1.
    // The name with a control byte in it is dropped.
    func testADNSNameWithANewlineDoesNotBecomeASecondName() throws {
        let serverSignals = ProbeSignals()
        let server = try startMutualTLSEchoServer(signals: serverSignals)
        defer { try? server.close().wait() }

        let result = try runProcess(Self.openssl, [
            "s_client", "-connect", "127.0.0.1:\(server.localAddress!.port!)", "-quiet",
            "-CAfile", pki.caPath, "-verify_return_error",
            "-cert", pki.path("smuggler.pem"), "-key", pki.path("smuggler.key"),
        ], stdin: "hello\n", timeoutSeconds: 30)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try serverSignals.handshake().peer, PeerIdentity(commonName: "smuggler", dnsNames: [], ipAddresses: []))
    }

    // s_client without a client certificate is turned away by our mutual-TLS server.
    func testOpenSSLClientWithoutCertificateIsRejectedByOurServer() throws {
        let serverSignals = ProbeSignals()
        let server = try startMutualTLSEchoServer(signals: serverSignals)
        defer { try? server.close().wait() }

        let result = try runProcess(Self.openssl, [
            "s_client", "-connect", "127.0.0.1:\(server.localAddress!.port!)", "-quiet",
            "-CAfile", pki.caPath, "-verify_return_error",
        ], stdin: "let me in\n", timeoutSeconds: 30)
        XCTAssertNotEqual(result.stdout, "let me in\n")
        XCTAssertTLSError(try serverSignals.firstError(), .peerCertificateMissing)
    }
}
