import CartRPC
import CartTestSupport
import CartWire
import Logging
import NIOConcurrencyHelpers
import NIOCore
import XCTest

/// Requests with the `noReply` flag (PROTOCOL.md §10.6): the server runs them and writes
/// nothing back on their streams, not even errors, while the connection keeps working.
final class OneWayRequestTests: XCTestCase {
    static let record = RPCMethod<ByteBuffer, ByteBuffer>(id: 210, name: "Test.record", kind: .unary)
    static let failing = RPCMethod<ByteBuffer, ByteBuffer>(id: 211, name: "Test.failing", kind: .unary)

    /// Records what one-way requests delivered, in arrival order.
    final class Received: Sendable {
        let payloads = NIOLockedValueBox<[String]>([])
        var all: [String] { payloads.withLockedValue { $0 } }
    }

    func startServer(_ bed: TestBed, _ received: Received) async throws -> RPCServer {
        try await bed.startServer({ _ in }) { server in
            server.register(Self.record, onEventLoop: { request, _ in
                received.payloads.withLockedValue { $0.append(String(buffer: request)) }
                return request
            })
            server.register(Self.failing, onEventLoop: { (_, _) throws(RPCError) -> ByteBuffer in
                throw RPCError(.invalidArgument, "always refused")
            })
            TestMethods.register(on: server, probe: HandlerProbe())
        }
    }

    /// Story: a peer sends three one-way requests, one to a failing method and one to a
    /// method the server does not have, then an ordinary echo. The handler sees the three
    /// payloads in order; the only frame that comes back is the echo's response.
    func testOneWayRequestsRunAndGetNoAnswerNotEvenErrors() async throws {
        let bed = try TestBed()
        let received = Received()
        let server = try await startServer(bed, received)
        let raw = try await RawConnection.connect(port: server.port!, tls: bed.clientTLS)
        try await raw.sendHello()
        _ = try await raw.frame(.helloAck)
        for (stream, text) in [(1, "a"), (2, "b"), (3, "c")] {
            try await raw.send(Frame(.request, stream: StreamID(UInt32(stream)), method: Self.record.id, noReply: true,
                                     payload: bytes(text)))
        }
        try await raw.send(Frame(.request, stream: 4, method: Self.failing.id, noReply: true, payload: bytes("x")))
        try await raw.send(Frame(.request, stream: 5, method: MethodID(999), noReply: true, payload: bytes("x")))
        try await raw.send(Frame(.request, stream: 6, method: .echo, payload: bytes("still here")))
        let response = try await raw.frame(.response)
        XCTAssertEqual(response.streamID, 6)
        XCTAssertEqual(String(buffer: response.payload), "still here")
        XCTAssertEqual(received.all, ["a", "b", "c"])
        let answeredStreams = raw.framesReceived.filter { $0.type != .helloAck }.map(\.streamID.rawValue)
        XCTAssertEqual(answeredStreams, [6], "nothing is written for one-way streams, errors included")
        await raw.close()
        await server.shutdown()
    }

    /// Its sender never hears that a one-way request was refused, so the server says so: one
    /// warning per connection, naming the first refusal. A peer whose Raft batches were all
    /// refused this way went unnoticed for minutes.
    func testTheFirstRefusedOneWayRequestOfAConnectionIsLogged() async throws {
        let bed = try TestBed()
        let logs = CapturedLogs()
        let server = RPCServer(configuration: bed.serverConfiguration(),
                               logger: Logger(label: "one-way-test") { _ in CapturingLogHandler(logs) })
        try await server.start()
        let raw = try await RawConnection.connect(port: server.port!, tls: bed.clientTLS)
        try await raw.sendHello()
        _ = try await raw.frame(.helloAck)
        try await raw.send(Frame(.request, stream: 1, method: MethodID(999), noReply: true, payload: bytes("x")))
        try await raw.send(Frame(.request, stream: 2, method: MethodID(998), noReply: true, payload: bytes("y")))
        try await raw.send(Frame(.request, stream: 3, method: .echo, payload: bytes("after")))
        _ = try await raw.frame(.response)
        let refusals = logs.all.filter { $0.message.contains("refused a one-way request") }
        XCTAssertEqual(refusals.count, 1, "once per connection")
        XCTAssertEqual(refusals.first?.level, .warning)
        XCTAssertTrue(refusals.first?.metadata["error"]?.contains("999") ?? false, "names the first refusal")
        await raw.close()
        await server.shutdown()
    }

    /// A one-way request for a server stream cannot work (items are answers): the server
    /// closes the connection with protocolViolation rather than stream into the void.
    func testOneWayRequestForAServerStreamIsAProtocolViolation() async throws {
        let bed = try TestBed()
        let server = try await startServer(bed, Received())
        let raw = try await RawConnection.connect(port: server.port!, tls: bed.clientTLS)
        try await raw.sendHello()
        _ = try await raw.frame(.helloAck)
        try await raw.send(Frame(.request, stream: 1, method: TestMethods.endless.id, noReply: true, payload: bytes("x")))
        let error = try await raw.error()
        XCTAssertEqual(error.code, .protocolViolation)
        try await raw.waitUntilClosed()
        await server.shutdown()
    }

    /// The client API: `RPCConnection.send` delivers without an answer, takes no call slot,
    /// and calls on the same connection keep working around it.
    func testConnectionSendDeliversInOrderWithoutTakingCallSlots() async throws {
        let bed = try TestBed()
        let received = Received()
        let server = try await startServer(bed, received)
        let client = bed.client(server)
        let connection = try await client.connection()
        let sent = try await connection.eventLoop.submit { () throws -> Int in
            for index in 0..<200 { try connection.send(Self.record.id, payload: bytes("m\(index)")) }
            return connection.inflightCount
        }.get()
        XCTAssertEqual(sent, 0, "one-way requests leave nothing pending")
        try await eventually(10, "all 200 one-way requests ran") { received.all.count == 200 }
        XCTAssertEqual(received.all, (0..<200).map { "m\($0)" })
        let reply = try await client.call(.echo, bytes("after"), timeout: .seconds(5))
        XCTAssertEqual(reply, bytes("after"))
        await client.shutdown()
        await server.shutdown()
    }
}
