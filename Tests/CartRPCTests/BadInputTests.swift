import CartRPC
import CartTestSupport
import CartWire
import NIOConcurrencyHelpers
import NIOCore
import XCTest

/// Bad input from one client gets that client a typed error and at worst closes its own
/// connection; the server keeps serving everyone else.
final class BadInputTests: XCTestCase {
    /// A frame with an undefined type byte: the client gets malformedFrame, its connection
    /// closes, and another client's calls still succeed.
    func testMalformedFrameGetsMalformedFrameErrorAndOthersKeepBeingServed() async throws {
        let bed = try TestBed()
        let server = try await bed.startServer()
        let healthy = bed.client(server)
        _ = try await healthy.call(.echo, bytes("before"), timeout: .seconds(5))

        let raw = try await RawConnection.connect(port: server.port!, tls: bed.clientTLS)
        try await raw.sendHello()
        _ = try await raw.frame(.helloAck)
        var garbage = ByteBuffer()
        garbage.writeInteger(UInt32(FrameHeader.fixedBytes))
        garbage.writeBytes([1, 0xEE, 0, 0, 0, 0, 0, 1, 0, 0])  // version 1, frame type 0xEE
        try await raw.send(garbage)
        let error = try await raw.error()
        XCTAssertEqual(error.code, .malformedFrame)
        try await raw.waitUntilClosed()

        let reply = try await healthy.call(.echo, bytes("after"), timeout: .seconds(5))
        XCTAssertEqual(reply, bytes("after"))
        await healthy.shutdown()
        await server.shutdown()
    }

    /// Before the hello nobody is authenticated: a first frame announcing more than
    /// `helloBytesMax` (16 KiB) is refused as soon as its length arrives, though a later frame
    /// of that size is fine; a hello that does not decode is a malformed frame (PROTOCOL.md §9).
    func testAFirstFrameOverTheHelloLimitOrAnUndecodableHelloIsRefused() async throws {
        let bed = try TestBed()
        let server = try await bed.startServer()

        let oversized = try await RawConnection.connect(port: server.port!, tls: bed.clientTLS)
        var header = ByteBuffer()
        header.writeInteger(UInt32(FrameLimits.helloBytesMax + 1))  // sends only the prefix
        try await oversized.send(header)
        let tooLarge = try await oversized.error()
        XCTAssertEqual(tooLarge.code, .frameTooLarge)
        try await oversized.waitUntilClosed()

        let garbled = try await RawConnection.connect(port: server.port!, tls: bed.clientTLS)
        try await garbled.send(Frame(.hello, stream: .connection, payload: ByteBuffer(bytes: [0xFF, 0xFF, 0xFF])))
        let malformed = try await garbled.error()
        XCTAssertEqual(malformed.code, .malformedFrame)
        try await garbled.waitUntilClosed()

        let healthy = bed.client(server)
        let big = ByteBuffer(repeating: 5, count: 2 * FrameLimits.helloBytesMax)
        let reply = try await healthy.call(.echo, big, timeout: .seconds(5))
        XCTAssertEqual(reply, big, "after the hello, frames up to frameBytesMax go through")
        await healthy.shutdown()
        await server.shutdown()
    }

    /// A length prefix above frameBytesMax is refused as soon as it arrives (frameTooLarge,
    /// then close); the client library refuses to send such a request in the first place.
    func testOversizedFrameGetsFrameTooLargeAndOthersKeepBeingServed() async throws {
        let bed = try TestBed()
        let server = try await bed.startServer({ $0.frameBytesMax = 64 * 1024 })
        let healthy = bed.client(server)

        let raw = try await RawConnection.connect(port: server.port!, tls: bed.clientTLS)
        try await raw.sendHello()
        _ = try await raw.frame(.helloAck)
        var header = ByteBuffer()
        header.writeInteger(UInt32(8 << 20))  // announces 8 MiB, sends only the prefix
        try await raw.send(header)
        let error = try await raw.error()
        XCTAssertEqual(error.code, .frameTooLarge)
        try await raw.waitUntilClosed()

        await assertRPCError(.frameTooLarge) {
            try await healthy.call(.echo, ByteBuffer(repeating: 7, count: 100 * 1024), timeout: .seconds(5))
        }
        let reply = try await healthy.call(.echo, bytes("small"), timeout: .seconds(5))
        XCTAssertEqual(reply, bytes("small"))
        await healthy.shutdown()
        await server.shutdown()
    }

    /// A client whose own frame limit is below the server's refuses a request between the two
    /// at once with `frameTooLarge`. It used to register the call, fail to encode the frame
    /// silently and leave the call waiting (forever, without a timeout).
    func testARequestAboveTheClientsOwnFrameLimitFailsAtOnce() async throws {
        let bed = try TestBed()
        let server = try await bed.startServer({ $0.frameBytesMax = 4 << 20 })
        let client = bed.client(server) { $0.frameBytesMax = 64 * 1024 }
        let outcome = Task { () -> RPCError? in
            do {
                _ = try await client.call(.echo, ByteBuffer(repeating: 7, count: 100 * 1024), timeout: nil)
                return nil
            } catch {
                return error as? RPCError
            }
        }
        let watchdog = Task {
            try await Task.sleep(for: .seconds(10))
            outcome.cancel()
        }
        let error = await outcome.value
        watchdog.cancel()
        XCTAssertEqual(error?.code, .frameTooLarge, "\(String(describing: error))")
        let reply = try await client.call(.echo, bytes("small"), timeout: .seconds(5))
        XCTAssertEqual(reply, bytes("small"), "the connection still serves")
        await client.shutdown()
        await server.shutdown()
    }

    /// A client that sends echo requests but never reads the answers: the server stops
    /// reading from it once its answers cannot be written, so the client's writes stall
    /// instead of the server buffering every answer (memory bounded). The client offers
    /// 256 MiB of requests; well under half gets through, and other clients are still served.
    func testAClientThatDoesNotReadItsAnswersIsThrottled() async throws {
        let bed = try TestBed()
        let server = try await bed.startServer({ $0.frameBytesMax = 1 << 20 })
        let raw = try await RawConnection.connect(port: server.port!, tls: bed.clientTLS)
        try await raw.sendHello()
        _ = try await raw.frame(.helloAck)
        try await raw.setReceiveBufferBytes(64 * 1024)
        try await raw.setAutoRead(false)

        let requestBytes = 256 * 1024, requests = 1_024
        let sent = NIOLockedValueBox(0)
        let flood = Task {
            for stream in 0..<requests {
                let frame = Frame(.request, stream: StreamID(UInt32(2 * stream + 1)), method: .echo,
                                  payload: ByteBuffer(repeating: 7, count: requestBytes))
                try await raw.send(frame)
                sent.withLockedValue { $0 += requestBytes }
            }
        }
        // Until the flood stops making progress for a second (or ends).
        var last = -1
        for _ in 0..<60 {
            try await Task.sleep(for: .seconds(1))
            let now = sent.withLockedValue { $0 }
            if now == last || now == requests * requestBytes { break }
            last = now
        }
        let through = sent.withLockedValue { $0 }
        flood.cancel()
        XCTAssertLessThan(through, requests * requestBytes / 2, "the server kept reading: \(through >> 20) MiB went through")

        let healthy = bed.client(server)
        let reply = try await healthy.call(.echo, bytes("still here"), timeout: .seconds(5))
        XCTAssertEqual(reply, bytes("still here"))
        await raw.close()
        await healthy.shutdown()
        await server.shutdown()
    }

    /// A request payload that does not decode as the method's argument type is a typed
    /// error on that call (invalidArgument, as the protocol spec says); the connection stays open.
    func testUndecodableRequestPayloadIsATypedErrorOnThatCallOnly() async throws {
        let bed = try TestBed()
        let server = try await bed.startServer()
        let client = bed.client(server)
        let brokenPing = RPCMethod<ByteBuffer, ByteBuffer>(id: .ping, name: "Builtin.ping", kind: .unary)
        await assertRPCError(.invalidArgument) {
            try await client.call(brokenPing, ByteBuffer(bytes: [0xFF, 0xFF, 0xFF]), timeout: .seconds(5))
        }
        let pong = try await client.call(.ping, Ping(nonce: 7), timeout: .seconds(5))
        XCTAssertEqual(pong.nonce, 7)
        await client.shutdown()
        await server.shutdown()
    }

    /// A hello offering only versions the server does not speak: an unsupportedVersion error
    /// frame on stream 0, then the server closes.
    func testHelloWithUnsupportedVersionIsRefusedThenClosed() async throws {
        let bed = try TestBed()
        let server = try await bed.startServer()
        let raw = try await RawConnection.connect(port: server.port!, tls: bed.clientTLS)
        try await raw.sendHello(versions: [9])
        let error = try await raw.error()
        XCTAssertEqual(error.code, .unsupportedVersion)
        try await raw.waitUntilClosed()

        let client = bed.client(server) { $0.helloVersions = [9] }
        await assertRPCError(.unsupportedVersion) { try await client.call(.echo, bytes("x"), timeout: .seconds(5)) }
        await client.shutdown()
        await server.shutdown()
    }

    /// A request before the hello breaks the protocol: protocolViolation, then close.
    func testRequestBeforeHelloIsAProtocolViolation() async throws {
        let bed = try TestBed()
        let server = try await bed.startServer()
        let raw = try await RawConnection.connect(port: server.port!, tls: bed.clientTLS)
        try await raw.send(Frame(.request, stream: 1, method: .echo, payload: bytes("early")))
        let error = try await raw.error()
        XCTAssertEqual(error.code, .protocolViolation)
        try await raw.waitUntilClosed()
        await server.shutdown()
    }

    /// A client that connects and never says hello is closed after handshakeTimeoutMs.
    func testSilentClientIsClosedAfterTheHandshakeTimeout() async throws {
        let bed = try TestBed()
        let server = try await bed.startServer({ $0.handshakeTimeoutMs = 200 })
        let raw = try await RawConnection.connect(port: server.port!, tls: bed.clientTLS)
        try await raw.waitUntilClosed()
        try await eventually(10, "the server forgets the connection") { server.connectionCount == 0 }
        await server.shutdown()
    }

    /// A client that reads its answers slowly: the server's socket stays full, so it stops
    /// reading (and so never sees the client's pings or pongs), yet the client keeps taking
    /// bytes off its send queue. That is not a dead peer: the connection must outlive many
    /// keepalive intervals (200 ms here) and deliver every answer once the client reads on.
    func testASlowReaderDrainingItsAnswersIsNotTakenForDead() async throws {
        let bed = try TestBed()
        let server = try await bed.startServer({ $0.keepaliveIntervalMs = 200; $0.frameBytesMax = 1 << 20 })
        let raw = try await RawConnection.connect(port: server.port!, tls: bed.clientTLS)
        try await raw.sendHello()
        _ = try await raw.frame(.helloAck)
        try await raw.setReceiveBufferBytes(64 * 1024)
        try await raw.setAutoRead(false)
        let requests = 64
        let flood = Task {
            for stream in 0..<requests {
                try await raw.send(Frame(.request, stream: StreamID(UInt32(2 * stream + 1)), method: .echo,
                                         payload: ByteBuffer(repeating: 9, count: 256 * 1024)))
            }
        }
        var pongs = 0
        for _ in 0..<30 {  // 3 s: 15 keepalive intervals, a little read every 100 ms
            raw.readOnce()
            try await Task.sleep(for: .milliseconds(100))
            // Like any client, it answers the pings it has read (they wait behind the answers).
            let pings = raw.framesReceived.filter { $0.type == .ping }
            for ping in pings.dropFirst(pongs) { try await raw.send(Frame(.pong, stream: .connection, payload: ping.payload)) }
            pongs = pings.count
        }
        XCTAssertFalse(raw.isClosed, "the server took a slow reader for a dead one")
        try await raw.setAutoRead(true)
        try await eventually(30, "every answer arrives") { raw.framesReceived.filter { $0.type == .response }.count == requests }
        _ = try await flood.value
        await raw.close()
        await server.shutdown()
    }

    /// Beyond connectionsMax, a new connection's hello gets resourceExhausted.
    func testConnectionBeyondConnectionsMaxIsRefused() async throws {
        let bed = try TestBed()
        let server = try await bed.startServer({ $0.connectionsMax = 1 })
        let first = bed.client(server)
        _ = try await first.call(.echo, bytes("1"), timeout: .seconds(5))
        let second = bed.client(server) { $0.connectAttemptsMax = 1 }
        await assertRPCError(.resourceExhausted) { try await second.call(.echo, bytes("2"), timeout: .seconds(5)) }
        _ = try await first.call(.echo, bytes("1 again"), timeout: .seconds(5))
        await first.shutdown()
        await second.shutdown()
        await server.shutdown()
    }
}
