import CartRPC
import CartTestSupport
import CartWire
import NIOCore
import XCTest

/// Unary calls over real TLS on loopback: correctness under concurrency, deadlines,
/// cancellation and unknown methods.
final class UnaryCallTests: XCTestCase {
    /// The simplest story: a client says hello over TLS and gets its bytes back.
    func testEchoOverTLSReturnsTheSameBytes() async throws {
        let bed = try TestBed()
        let server = try await bed.startServer()
        let client = bed.client(server)
        let reply = try await client.call(.echo, bytes("hello cart"), timeout: .seconds(5))
        XCTAssertEqual(reply, bytes("hello cart"))
        let pong = try await client.call(.ping, Ping(nonce: 42), timeout: .seconds(5))
        XCTAssertEqual(pong.nonce, 42)
        await client.shutdown()
        await server.shutdown()
    }

    /// 1000 calls share one connection at once; the server answers after random delays, so
    /// answers come back out of order, and each caller must still get its own payload.
    func testThousandConcurrentCallsOnOneConnectionAllGetTheirOwnAnswer() async throws {
        let bed = try TestBed()
        let probe = HandlerProbe()
        let server = try await bed.startServer(register: { TestMethods.register(on: $0, probe: probe) })
        let client = bed.client(server)
        try await within(60, "1000 calls") {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<1000 {
                    group.addTask {
                        var payload = ByteBuffer()
                        payload.writeInteger(UInt8(index % 20))
                        payload.writeString("call-\(index)")
                        let reply = try await client.call(TestMethods.delayedEcho, payload, timeout: .seconds(30))
                        XCTAssertEqual(reply, payload)
                    }
                }
                try await group.waitForAll()
            }
        }
        await client.shutdown()
        await server.shutdown()
    }

    /// A call whose deadline passes gets deadlineExceeded, and the server cancels the
    /// handler's work instead of letting it run on.
    func testCallPastItsDeadlineFailsAndTheServerCancelsTheHandler() async throws {
        let bed = try TestBed()
        let probe = HandlerProbe()
        let server = try await bed.startServer(register: { TestMethods.register(on: $0, probe: probe) })
        let client = bed.client(server)
        let error = await assertRPCError(.deadlineExceeded) {
            try await client.call(TestMethods.hang, bytes("slow"), timeout: .milliseconds(200))
        }
        XCTAssertEqual(error?.isRetryable, true)
        try await eventually(10, "the handler sees cancellation") { probe.cancelledCount == 1 }
        await client.shutdown()
        await server.shutdown()
    }

    /// Cancelling the calling task sends a cancel frame; the server's handler task is cancelled.
    func testCancellingTheClientTaskCancelsTheServerHandler() async throws {
        let bed = try TestBed()
        let probe = HandlerProbe()
        let server = try await bed.startServer(register: { TestMethods.register(on: $0, probe: probe) })
        let client = bed.client(server)
        let call = Task { try await client.call(TestMethods.hang, bytes("wait"), timeout: .seconds(60)) }
        try await eventually(10, "the handler starts") { probe.startedCount == 1 }
        call.cancel()
        await assertRPCError(.cancelled) { try await call.value }
        try await eventually(10, "the handler sees cancellation") { probe.cancelledCount == 1 }
        // The connection is still good for other calls.
        let reply = try await client.call(.echo, bytes("after"), timeout: .seconds(5))
        XCTAssertEqual(reply, bytes("after"))
        await client.shutdown()
        await server.shutdown()
    }

    /// An unknown method id is a typed error on that call only; the connection keeps working.
    func testUnknownMethodGivesTypedErrorAndConnectionKeepsWorking() async throws {
        let bed = try TestBed()
        let server = try await bed.startServer()
        let client = bed.client(server)
        await assertRPCError(.unknownMethod) { try await client.call(TestMethods.missing, bytes("?"), timeout: .seconds(5)) }
        let reply = try await client.call(.echo, bytes("still here"), timeout: .seconds(5))
        XCTAssertEqual(reply, bytes("still here"))
        await client.shutdown()
        await server.shutdown()
    }

    /// Beyond inflightRequestsPerConnectionMax, a call is refused with resourceExhausted
    /// (retryable) while the calls already running finish.
    func testCallsBeyondTheInflightLimitAreRefusedWithResourceExhausted() async throws {
        let bed = try TestBed()
        let probe = HandlerProbe()
        let server = try await bed.startServer({ $0.inflightRequestsPerConnectionMax = 2 }) {
            TestMethods.register(on: $0, probe: probe)
        }
        let client = bed.client(server)
        let calls = (0..<2).map { _ in Task { try await client.call(TestMethods.hang, bytes("x"), timeout: .seconds(60)) } }
        try await eventually(10, "two handlers start") { probe.startedCount == 2 }
        let refused = await assertRPCError(.resourceExhausted) {
            try await client.call(TestMethods.hang, bytes("third"), timeout: .seconds(5))
        }
        XCTAssertEqual(refused?.isRetryable, true)
        for call in calls { call.cancel() }
        await client.shutdown()
        await server.shutdown()
    }

    /// The authentication hook sees the hello's token; a refusal reaches the client as
    /// unauthenticated.
    func testAuthenticatorRefusingTheTokenGivesUnauthenticated() async throws {
        let bed = try TestBed()
        let server = try await bed.startServer({ configuration in
            configuration.authenticate = { hello, _ in
                hello.authToken == "good"
                    ? .success(RPCPrincipal(name: hello.identity, role: hello.role))
                    : .failure(RPCError(.unauthenticated, "bad token"))
            }
        })
        let bad = bed.client(server) { $0.authToken = "bad" }
        await assertRPCError(.unauthenticated) { try await bad.call(.echo, bytes("x"), timeout: .seconds(5)) }
        let good = bed.client(server) { $0.authToken = "good" }
        let reply = try await good.call(.echo, bytes("in"), timeout: .seconds(5))
        XCTAssertEqual(reply, bytes("in"))
        await bad.shutdown()
        await good.shutdown()
        await server.shutdown()
    }

    /// A handler on the event loop may answer later through a future (here after a
    /// scheduled delay); its call context names the method and the caller.
    func testEventLoopFutureHandlerAnswersLaterWithItsContext() async throws {
        let bed = try TestBed()
        let later = RPCMethod<ByteBuffer, ByteBuffer>(id: 210, name: "Test.later", kind: .unary)
        let server = try await bed.startServer(register: { server in
            server.register(later, onEventLoopFuture: { request, context in
                context.eventLoop.scheduleTask(in: .milliseconds(20)) {
                    var reply = request
                    reply.writeString(" from \(context.method.name) for \(context.principal.name)")
                    return reply
                }.futureResult
            })
        })
        let client = bed.client(server)
        let reply = try await client.call(later, bytes("answer"), timeout: .seconds(5))
        XCTAssertEqual(reply, bytes("answer from Test.later for cartrpc-tests"))
        await client.shutdown()
        await server.shutdown()
    }
}
