import CartTLS
import Foundation
import NIOCore
import NIOPosix
import XCTest

/// Many sessions, good and failed, through fresh contexts: a workload for a leak checker.
/// Run under valgrind (command in README.md, "TLS") it must show no block definitely lost from
/// libssl or libcrypto: every SSL, BIO, SSL_CTX and X509 reference the handler takes is freed.
/// `CARTTLS_LEAK_CONNECTIONS` sets the number of sessions (default 60, kept small for CI).
final class TLSLeakCheckTests: XCTestCase {
    static let connectionsDefault = 60
    static let connectionsMax = 10_000

    func testManySessionsAndFailedHandshakesReleaseEverything() throws {
        let requested = ProcessInfo.processInfo.environment["CARTTLS_LEAK_CONNECTIONS"].flatMap { Int($0) }
        let connections = min(max(requested ?? Self.connectionsDefault, 1), Self.connectionsMax)
        let pki = try TestPKI()
        defer { pki.remove() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }

        func context(_ name: String, ca: String) throws -> TLSContext {
            try TLSContext(configuration: .mutualTLS(
                certificateChainPath: pki.path("\(name).pem"), privateKeyPath: pki.path("\(name).key"), trustedCAPath: ca))
        }
        let serverSignals = ProbeSignals()
        let server = try Loopback.startServer(
            group: group, tls: try context("node-1", ca: pki.caPath), signals: serverSignals, extraHandlers: { [Echo()] })
        defer { try? server.close().wait() }
        let port = server.localAddress!.port!

        var succeeded = 0, refused = 0
        for index in 0..<connections {
            // Every fourth client presents a certificate from another CA and must be refused;
            // the others exchange a line. Contexts are created per session so SSL_CTX is freed too.
            let stranger = index % 4 == 3
            let tls = try stranger ? context("other/node-1", ca: pki.path("other/ca.pem")) : context("node-2", ca: pki.caPath)
            let reply = group.next().makePromise(of: String.self)
            let signals = ProbeSignals()
            let client = try Loopback.connect(
                group: group, port: port, tls: tls, expectedPeerName: stranger ? nil : "node-1", signals: signals,
                extraHandlers: { [LineExchange(send: "session \(index)", reply: reply)] })
            do {
                let line = try reply.futureResult.wait(within: 60)
                XCTAssertEqual(line, "session \(index)")
                succeeded += 1
            } catch {
                XCTAssertTrue(stranger, "session \(index) failed: \(error)")
                refused += 1
            }
            try? client.close().wait()
            try signals.inactive(within: 60)
        }
        XCTAssertEqual(refused, connections / 4)
        XCTAssertEqual(succeeded, connections - connections / 4)
    }
}

/// Echoes every read back; used where the echo's flow control does not matter.
final class Echo: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }
}
