import CartRPC
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
}
