import CartRPC
import CartTestSupport
import CartWire
import NIOCore
import XCTest

/// Shutdown, restart and the pure pieces of connection management.
final class LifecycleTests: XCTestCase {
    /// Shutdown sends go-away: the call in progress still gets its answer, and a call made
    /// after it is refused with a retryable unavailable error.
    func testShutdownDrainsTheCallInProgressAndRefusesNewOnesRetryably() async throws {
        let bed = try TestBed()
        let server = try await bed.startServer(register: { server in
            server.register(TestMethods.delayedEcho) { request, _ in
                try await Task.sleep(for: .milliseconds(500))
                return request
            }
        })
        let client = bed.client(server) { $0.connectAttemptsMax = 1 }
        _ = try await client.call(.echo, bytes("warm"), timeout: .seconds(5))
        let inFlight = Task { try await client.call(TestMethods.delayedEcho, bytes("finish me"), timeout: .seconds(10)) }
        try await Task.sleep(for: .milliseconds(100))
        let shutdown = Task { await server.shutdown() }
        try await eventually(10, "the server starts draining") { server.isDraining }
        let refused = await assertRPCError(.unavailable) {
            try await within(10, "the refused call") { try await client.call(.echo, bytes("too late"), timeout: .seconds(5)) }
        }
        XCTAssertEqual(refused?.isRetryable, true)
        let reply = try await inFlight.value
        XCTAssertEqual(reply, bytes("finish me"))
        await shutdown.value
        XCTAssertEqual(server.connectionCount, 0)
        await client.shutdown()
    }

    /// Closing a TLS connection waits for the server's close_notify, and the channel stays
    /// active meanwhile. From the moment the close starts the connection says it is not
    /// usable and refuses new calls at once (retryably), instead of sending them into a
    /// connection that can only fail them when the close ends. A call already in progress
    /// still ends, with the connection.
    func testAClosingConnectionTakesNoNewCalls() async throws {
        let bed = try TestBed()
        let server = try await bed.startServer()
        let client = bed.client(server) { $0.connectAttemptsMax = 1 }
        let connection = try await client.connection()
        let (activeWhileClosing, usableWhileClosing, refusal) = try await connection.eventLoop.submit {
            () -> (Bool, Bool, RPCError?) in
            connection.channel.close(promise: nil)
            var refusal: RPCError?
            connection.startCall(.echo, payload: bytes("after close")) { _, result in
                if case .failure(let error) = result { refusal = error }
            }
            return (connection.channel.isActive, connection.isUsable, refusal)
        }.get()
        XCTAssertTrue(activeWhileClosing, "TLS keeps the channel open until close_notify is answered")
        XCTAssertFalse(usableWhileClosing)
        XCTAssertEqual(refusal?.code, .unavailable, "refused at once, not when the close ends")
        XCTAssertEqual(refusal?.isRetryable, true)
        try await within(10, "the close") { try await connection.channel.closeFuture.get() }
        await client.shutdown()
        await server.shutdown()
    }

    /// A connection the server sent go-away to keeps finishing its calls while the client
    /// moves on to a new one. Shutting the client down closes that replaced connection too,
    /// at once, instead of leaving it open until the server's drain ends; its call fails.
    func testShutdownClosesAConnectionReplacedAfterGoAway() async throws {
        let bed = try TestBed()
        let server = try await bed.startServer(register: { server in
            server.register(TestMethods.delayedEcho) { request, _ in
                try await Task.sleep(for: .seconds(3))
                return request
            }
        })
        let client = bed.client(server) {
            $0.connectAttemptsMax = 1
            $0.connectionsPerEndpoint = 1
        }
        let first = try await client.connection()
        let inFlight = Task { try await client.call(TestMethods.delayedEcho, bytes("slow"), timeout: .seconds(10)) }
        try await Task.sleep(for: .milliseconds(100))
        let shutdown = Task { await server.shutdown() }
        try await eventually(10, "the go-away reaches the client") { !first.isUsable }
        _ = try? await client.connection()  // replaces it; the draining server takes no new connection
        XCTAssertTrue(first.channel.isActive, "the replaced connection still has its call to finish")

        await client.shutdown()
        try await within(2, "the replaced connection closes") { try await first.channel.closeFuture.get() }
        let result = await inFlight.result
        XCTAssertThrowsError(try result.get(), "its call ended with the connection, not 3 s later with an answer")
        await shutdown.value
    }

    /// After the server restarts on the same port, the same client reconnects by itself.
    func testClientReconnectsAfterServerRestart() async throws {
        let bed = try TestBed()
        let first = try await bed.startServer()
        let port = first.port!
        let client = bed.client(first) { $0.connectAttemptsMax = 10 }
        _ = try await client.call(.echo, bytes("one"), timeout: .seconds(5))
        await first.shutdown()

        let second = try await bed.startServer({ $0.port = port })
        let reply = try await within(20, "the call after restart") {
            try await client.call(.echo, bytes("two"), timeout: .seconds(5))
        }
        XCTAssertEqual(reply, bytes("two"))
        await client.shutdown()
        await second.shutdown()
    }

    /// A connection with nothing to do for idleTimeoutMs is closed by the server with a
    /// go-away; the client reconnects for its next call.
    func testIdleConnectionIsClosedAndTheClientReconnectsOnNextCall() async throws {
        let bed = try TestBed()
        let server = try await bed.startServer({ configuration in
            configuration.keepaliveIntervalMs = 50
            configuration.idleTimeoutMs = 200
        })
        let client = bed.client(server)
        _ = try await client.call(.echo, bytes("once"), timeout: .seconds(5))
        XCTAssertEqual(server.connectionCount, 1)
        try await eventually(10, "the idle connection is closed") { server.connectionCount == 0 }
        let reply = try await client.call(.echo, bytes("again"), timeout: .seconds(5))
        XCTAssertEqual(reply, bytes("again"))
        await client.shutdown()
        await server.shutdown()
    }

    /// A peer that completes the hello and then never answers pings is presumed dead after
    /// three silent keepalive intervals and closed.
    func testPeerThatNeverAnswersPingsIsClosed() async throws {
        let bed = try TestBed()
        let server = try await bed.startServer({ $0.keepaliveIntervalMs = 50 })
        let raw = try await RawConnection.connect(port: server.port!, tls: bed.clientTLS)
        try await raw.sendHello()
        _ = try await raw.frame(.helloAck)
        _ = try await raw.frame(.ping)
        try await raw.waitUntilClosed()
        try await eventually(10, "the server forgets the connection") { server.connectionCount == 0 }
        await server.shutdown()
    }
}

/// A server whose methods are registered after it binds (a node's services need its port).
final class LateRegistrationTests: XCTestCase {
    /// Each connection serves the methods registered when it was accepted. A connection
    /// accepted before a registration answers `unknownMethod` for it, for good, and refuses
    /// one-way calls to it unanswered: a peer that reconnected to a restarting node in that
    /// moment had every Raft batch dropped for the life of its connection.
    func testAConnectionAcceptedBeforeARegistrationNeverServesIt() async throws {
        let bed = try TestBed()
        let server = RPCServer(configuration: bed.serverConfiguration())
        let port = try await server.start()
        // One connection, so the second call goes where the first went.
        let client = bed.client(server) { $0.connectAttemptsMax = 1; $0.connectionsPerEndpoint = 1 }
        _ = try await client.call(.echo, bytes("accepted"), timeout: .seconds(5))
        server.register(TestMethods.delayedEcho) { request, _ in request }
        _ = await assertRPCError(.unknownMethod) {
            try await client.call(TestMethods.delayedEcho, bytes("\u{0}late"), timeout: .seconds(5))
        }
        XCTAssertEqual(port, server.port)
        await client.shutdown()
        await server.shutdown()
    }

    /// Bound without accepting, the server leaves connections in the backlog until
    /// `startAccepting`; registered in between, the method is served on them.
    func testConnectionsWaitingForTheServerToAcceptServeMethodsRegisteredMeanwhile() async throws {
        let bed = try TestBed()
        let server = RPCServer(configuration: bed.serverConfiguration())
        _ = try await server.start(accepting: false)
        let client = bed.client(server) { $0.connectAttemptsMax = 1; $0.connectTimeoutMs = 10_000 }
        let call = Task { try await client.call(TestMethods.delayedEcho, bytes("\u{0}early"), timeout: .seconds(20)) }
        try await Task.sleep(for: .milliseconds(200))
        XCTAssertEqual(server.connectionCount, 0, "the connection waits in the backlog, not accepted")
        server.register(TestMethods.delayedEcho) { request, _ in request }
        try await server.startAccepting()
        let reply = try await within(15, "the early call") { try await call.value }
        XCTAssertEqual(reply, bytes("\u{0}early"))
        await client.shutdown()
        await server.shutdown()
    }
}
