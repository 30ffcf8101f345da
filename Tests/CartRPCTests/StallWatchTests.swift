import CartRPC
import CartTestSupport
import CartWire
import Foundation
import NIOCore
import NIOPosix
import XCTest

/// A server that stops answering altogether (its process stopped, its machine frozen) keeps
/// its connections open; the client's stall watch gives it up after 2–3 probe intervals of
/// silence, so callers retry (and watches resume) elsewhere instead of waiting out their
/// timeouts. A server that is only slow to answer a call, or has nothing to send on a
/// stream, still answers pings and keeps its calls.
final class StallWatchTests: XCTestCase {
    /// Blocks the server's only event loop thread for the time in the request's first byte
    /// (tenths of a second): nothing on that server runs meanwhile, as in a stopped process.
    static let freeze = RPCMethod<ByteBuffer, ByteBuffer>(id: 210, name: "Test.freeze", kind: .unary)
    /// Sends the request back, waits the tenths of a second in its first byte without blocking
    /// the event loop, sends it again and ends: a stream with nothing to send for a while.
    static let quiet = RPCMethod<ByteBuffer, ByteBuffer>(id: 211, name: "Test.quiet", kind: .serverStream)

    private func startFreezableServer(_ bed: TestBed, group: MultiThreadedEventLoopGroup,
                                      _ configure: (inout RPCServerConfiguration) -> Void = { _ in }) async throws -> RPCServer {
        try await bed.startServer({
            $0.eventLoopGroup = group
            configure(&$0)
        }, register: { server in
            server.register(Self.freeze, onEventLoop: { request, _ in
                let tenths = Int(request.getInteger(at: request.readerIndex, as: UInt8.self) ?? 0)
                Thread.sleep(forTimeInterval: Double(tenths) / 10)
                return request
            })
            server.registerStream(Self.quiet) { request, _, writer in
                let tenths = Int(request.getInteger(at: request.readerIndex, as: UInt8.self) ?? 0)
                try await writer.send(request)
                try await Task.sleep(for: .milliseconds(100 * tenths))
                try await writer.send(request)
            }
            TestMethods.register(on: server, probe: HandlerProbe())
        })
    }

    // Story: a client calls a server with a long timeout (20 s); the server freezes for 4 s.
    // The call fails with `unavailable`, the server presumed hung, instead of the answer the
    // server would give when it wakes, and a second call on that connection fails with it. Without the
    // watch, the same call waits out its timeout.
    func testCallsToAServerThatAnswersNothingFailAsUnavailable() async throws {
        let bed = try TestBed()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await startFreezableServer(bed, group: group)
        let client = bed.client(server) { $0.stallProbeIntervalMs = 200 }
        _ = try await client.call(.echo, bytes("connect"), timeout: .seconds(5))

        try await within(15, "the calls to the frozen server") {
            async let other = assertRPCError(.unavailable) {
                try await Task.sleep(for: .milliseconds(100))
                return try await client.call(.echo, bytes("second"), timeout: .seconds(20))
            }
            let error = await assertRPCError(.unavailable) {
                try await client.call(Self.freeze, ByteBuffer(bytes: [40]), timeout: .seconds(20))
            }
            XCTAssertTrue(error?.message.contains("presumed hung") ?? false, "\(String(describing: error))")
            let second = await other
            XCTAssertTrue(second?.message.contains("presumed hung") ?? false, "\(String(describing: second))")
        }

        // Once awake, the server serves the client's next call on a new connection.
        try await Task.sleep(for: .seconds(4))
        let reply = try await within(15, "a call after the server woke") {
            try await client.call(.echo, bytes("after"), timeout: .seconds(10))
        }
        XCTAssertEqual(reply, bytes("after"))

        let patient = bed.client(server) { $0.stallProbeIntervalMs = nil }
        _ = try await patient.call(.echo, bytes("connect"), timeout: .seconds(5))
        try await within(15, "the call without a stall watch") {
            _ = await assertRPCError(.deadlineExceeded) {
                try await patient.call(Self.freeze, ByteBuffer(bytes: [20]), timeout: .milliseconds(1_500))
            }
        }
        await patient.shutdown()
        await client.shutdown()
        await server.shutdown()
        try await group.shutdownGracefully()
    }

    // Story: a call the server takes its time over (it sleeps, its event loop stays free) runs
    // for ten probe intervals and ends at its own deadline: the server's pongs show it alive.
    func testASlowCallOnALiveServerIsNotGivenUp() async throws {
        let bed = try TestBed()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await startFreezableServer(bed, group: group)
        let client = bed.client(server) { $0.stallProbeIntervalMs = 100 }
        _ = try await client.call(.echo, bytes("connect"), timeout: .seconds(5))
        try await within(15, "the slow call") {
            let error = await assertRPCError(.deadlineExceeded) {
                try await client.call(TestMethods.hang, bytes("slow"), timeout: .milliseconds(1_000))
            }
            XCTAssertFalse(error?.message.contains("presumed hung") ?? true)
        }
        let reply = try await client.call(.echo, bytes("same connection"), timeout: .seconds(5))
        XCTAssertEqual(reply, bytes("same connection"))
        await client.shutdown()
        await server.shutdown()
        try await group.shutdownGracefully()
    }

    // Story: bob watches a cart through a node that then stops (its process frozen for 4 s).
    // The stream has nothing in flight, yet it ends with `unavailable`, the server presumed
    // hung, after a few probe intervals, so a watch can resume on another node instead of
    // waiting for the keepalive (here 60 s). The freeze comes from another client, so no
    // unary call of the watching client is waiting meanwhile.
    func testAStreamOnAServerThatAnswersNothingEndsAsUnavailable() async throws {
        let bed = try TestBed()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await startFreezableServer(bed, group: group) { $0.keepaliveIntervalMs = 60_000 }
        let watcher = bed.client(server) { $0.stallProbeIntervalMs = 200 }
        let freezer = bed.client(server) { $0.stallProbeIntervalMs = nil }
        _ = try await freezer.call(.echo, bytes("connect"), timeout: .seconds(5))

        try await within(15, "the stream on the frozen server") {
            var items = try await watcher.stream(Self.quiet, ByteBuffer(bytes: [250])).makeAsyncIterator()
            _ = try await items.next()
            let frozen = Task { try await freezer.call(Self.freeze, ByteBuffer(bytes: [40]), timeout: .seconds(20)) }
            let error = await assertRPCError(.unavailable) { try await items.next() }
            XCTAssertTrue(error?.message.contains("presumed hung") ?? false, "\(String(describing: error))")
            _ = try await frozen.value
        }
        await freezer.shutdown()
        await watcher.shutdown()
        await server.shutdown()
        try await group.shutdownGracefully()
    }

    // Story: a client holds an idle connection (no call open, so no stall watch) to a server
    // that freezes for 3 s. Its keepalive gives the connection up and marks the endpoint
    // unreachable, as a stalled call does, so a cluster client about to send there goes to
    // another node instead of connecting to the frozen one and waiting its connect timeout.
    func testAnIdleConnectionGivenUpByTheKeepaliveMarksTheEndpointUnreachable() async throws {
        let bed = try TestBed()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await startFreezableServer(bed, group: group) { $0.keepaliveIntervalMs = 200 }
        let idle = bed.client(server) { $0.stallProbeIntervalMs = nil }
        let freezer = bed.client(server) { $0.stallProbeIntervalMs = nil }
        _ = try await idle.call(.echo, bytes("connect"), timeout: .seconds(5))
        _ = try await freezer.call(.echo, bytes("connect"), timeout: .seconds(5))
        XCTAssertNil(idle.unreachableSince)

        try await within(15, "the idle connection to the frozen server") {
            let frozen = Task { try await freezer.call(Self.freeze, ByteBuffer(bytes: [30]), timeout: .seconds(20)) }
            try await eventually(10, "the idle client's keepalive found the server silent") { idle.unreachableSince != nil }
            _ = try? await frozen.value  // the freezer's own keepalive may give up first
        }
        await freezer.shutdown()
        await idle.shutdown()
        await server.shutdown()
        try await group.shutdownGracefully()
    }

    // Story: a stream with nothing to send for ten probe intervals (its server waits, its
    // event loop free) is kept: the pongs show the server alive, and the next item arrives.
    func testAQuietStreamOnALiveServerIsNotGivenUp() async throws {
        let bed = try TestBed()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await startFreezableServer(bed, group: group)
        let client = bed.client(server) { $0.stallProbeIntervalMs = 100 }
        let items = try await within(15, "the quiet stream") {
            var received: [ByteBuffer] = []
            for try await item in try await client.stream(Self.quiet, ByteBuffer(bytes: [10])) { received.append(item) }
            return received
        }
        XCTAssertEqual(items, [ByteBuffer(bytes: [10]), ByteBuffer(bytes: [10])])
        await client.shutdown()
        await server.shutdown()
        try await group.shutdownGracefully()
    }
}
