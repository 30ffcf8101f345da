import CartTLS
import NIOCore
import NIOEmbedded
import XCTest

/// Records what reaches the end of a pipeline: plaintext, handshake events, errors.
final class EventRecorder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    var plaintext = ByteBuffer()
    var plaintextReads = 0
    var handshakes: [TLSHandshakeCompleted] = []
    var errors: [any Error] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        plaintext.writeBuffer(&chunk)
        plaintextReads += 1
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let completed = event as? TLSHandshakeCompleted { handshakes.append(completed) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        errors.append(error)
    }
}

/// Sits below the TLS handler and counts the ciphertext writes and flushes it passes on.
final class OutboundCounter: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    var writtenBytes = 0
    var flushes = 0

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        writtenBytes += unwrapOutboundIn(data).readableBytes
        context.write(data, promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        flushes += 1
        context.flush()
    }
}

/// The handler between two `EmbeddedChannel`s, with the ciphertext moved by hand: how bytes
/// are cut up and when they arrive is fully under the test's control.
final class TLSHandlerEmbeddedTests: XCTestCase {
    nonisolated(unsafe) static var pki: TestPKI!
    static let pumpRoundsMax = 10_000

    override class func setUp() {
        pki = try! TestPKI()
    }

    override class func tearDown() {
        pki.remove()
    }

    struct Endpoint {
        let channel: EmbeddedChannel
        let recorder: EventRecorder
    }

    func endpoint(_ role: TLSHandler.Role, configuration: TLSConfiguration, connect: Bool = true) throws -> Endpoint {
        let channel = EmbeddedChannel()
        let recorder = EventRecorder()
        let tls = try TLSContext(configuration: configuration)
        try channel.pipeline.syncOperations.addHandler(
            TLSHandler(context: tls, role: role, expectedPeerName: role == .client ? "localhost" : nil))
        try channel.pipeline.syncOperations.addHandler(recorder)
        if connect {
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 7401)).wait()
        }
        return Endpoint(channel: channel, recorder: recorder)
    }

    func pair() throws -> (client: Endpoint, server: Endpoint) {
        let pki = Self.pki!
        let server = try endpoint(.server, configuration: .mutualTLS(
            certificateChainPath: pki.path("node-1.pem"), privateKeyPath: pki.path("node-1.key"), trustedCAPath: pki.caPath))
        let client = try endpoint(.client, configuration: .mutualTLS(
            certificateChainPath: pki.path("node-2.pem"), privateKeyPath: pki.path("node-2.key"), trustedCAPath: pki.caPath))
        return (client, server)
    }

    /// Moves ciphertext both ways, in pieces of at most `pieceBytes`, until both sides are quiet.
    /// Returns the number of buffers each side emitted.
    @discardableResult
    func pump(_ a: Endpoint, _ b: Endpoint, pieceBytes: Int = .max) throws -> (fromA: Int, fromB: Int) {
        var emitted = (fromA: 0, fromB: 0)
        for _ in 0..<Self.pumpRoundsMax {
            let fromA = try move(from: a.channel, to: b.channel, pieceBytes: pieceBytes)
            let fromB = try move(from: b.channel, to: a.channel, pieceBytes: pieceBytes)
            emitted.fromA += fromA
            emitted.fromB += fromB
            if fromA == 0 && fromB == 0 { return emitted }
        }
        XCTFail("ciphertext kept flowing after \(Self.pumpRoundsMax) rounds")
        return emitted
    }

    private func move(from source: EmbeddedChannel, to target: EmbeddedChannel, pieceBytes: Int) throws -> Int {
        var buffers = 0
        while var ciphertext = try source.readOutbound(as: ByteBuffer.self) {
            buffers += 1
            while ciphertext.readableBytes > 0 && target.isActive {
                try target.writeInbound(ciphertext.readSlice(length: min(pieceBytes, ciphertext.readableBytes))!)
            }
        }
        return buffers
    }

    func randomBytes(_ count: Int) -> ByteBuffer {
        TLSBulkTransferTests.makeStream(bytes: count, seed: UInt64.random(in: 0...UInt64.max))
    }

    // Every byte of the handshake and of a 20 KiB message (two records) arrives on its own:
    // the handler must reassemble records from arbitrarily small reads.
    func testHandshakeAndRecordsSurviveOneByteAtATimeDelivery() throws {
        let (client, server) = try pair()
        try pump(client, server, pieceBytes: 1)
        XCTAssertEqual(client.recorder.handshakes.count, 1)
        XCTAssertEqual(server.recorder.handshakes.first?.peer?.commonName, "node-2")

        let message = randomBytes(20 * 1024)
        try client.channel.writeAndFlush(message).wait()
        try pump(client, server, pieceBytes: 1)
        XCTAssertEqual(server.recorder.plaintext, message)
        XCTAssertTrue(client.recorder.errors.isEmpty && server.recorder.errors.isEmpty, "\(client.recorder.errors) \(server.recorder.errors)")
    }

    // Ten writes produce no ciphertext until the flush, which emits them as one socket write.
    func testWritesWaitForFlushAndAreCoalescedIntoOneSocketWrite() throws {
        let (client, server) = try pair()
        try pump(client, server)
        var promises: [EventLoopFuture<Void>] = []
        for index in 0..<10 {
            promises.append(client.channel.write(ByteBuffer(string: "message \(index);")))
        }
        XCTAssertNil(try client.channel.readOutbound(as: ByteBuffer.self))
        client.channel.flush()
        let emitted = try pump(client, server)
        XCTAssertEqual(emitted.fromA, 1)
        XCTAssertEqual(String(buffer: server.recorder.plaintext), (0..<10).map { "message \($0);" }.joined())
        for promise in promises { XCTAssertNoThrow(try promise.wait()) }
    }

    // A writer that keeps writing without flushing is not buffered without bound inside the
    // handler: past unflushedPlaintextBytesMax the ciphertext is handed to the channel
    // (unflushed), where it counts towards the channel's writability.
    func testUnflushedWritesBeyondTheCoalescingLimitReachTheChannelUnflushed() throws {
        let (client, server) = try pair()
        try pump(client, server)
        let counter = OutboundCounter()
        try client.channel.pipeline.syncOperations.addHandler(counter, position: .first)
        for _ in 0..<16 {
            client.channel.write(ByteBuffer(repeating: 7, count: 16 * 1024), promise: nil)
        }
        XCTAssertGreaterThanOrEqual(counter.writtenBytes, 3 * 64 * 1024)
        XCTAssertEqual(counter.flushes, 0)
        client.channel.flush()
        XCTAssertEqual(counter.flushes, 1)
        try pump(client, server)
        XCTAssertEqual(server.recorder.plaintext.readableBytes, 16 * 16 * 1024)
    }

    // A 2 MiB write leaves as several bounded socket writes rather than one 2 MiB blob, and
    // arrives intact; its promise completes once the last piece is written.
    func testLargeWriteIsEmittedInBoundedSlices() throws {
        let (client, server) = try pair()
        try pump(client, server)
        let message = randomBytes(2 * 1024 * 1024)
        let written = client.channel.writeAndFlush(message)
        var sizes: [Int] = []
        while let ciphertext = try client.channel.readOutbound(as: ByteBuffer.self) {
            sizes.append(ciphertext.readableBytes)
            try server.channel.writeInbound(ciphertext)
        }
        XCTAssertGreaterThanOrEqual(sizes.count, 6, "\(sizes)")
        XCTAssertLessThan(sizes.max() ?? 0, 512 * 1024, "\(sizes)")
        XCTAssertEqual(server.recorder.plaintext, message)
        XCTAssertNoThrow(try written.wait())
    }

    // Closing sends close_notify; the peer answers with its own and closes; the closer's
    // close completes when the answer arrives. Nobody reports an error.
    func testCloseNotifyIsExchangedInBothDirections() throws {
        let (client, server) = try pair()
        try pump(client, server)
        let closed = client.channel.close()
        XCTAssertTrue(client.channel.isActive, "the closer waits for the peer's close_notify")
        try pump(client, server)
        XCTAssertFalse(server.channel.isActive)
        XCTAssertFalse(client.channel.isActive)
        XCTAssertNoThrow(try closed.wait())
        XCTAssertTrue(client.recorder.errors.isEmpty && server.recorder.errors.isEmpty, "\(client.recorder.errors) \(server.recorder.errors)")
    }

    // A peer that never answers our close_notify is closed anyway after closeNotifyTimeoutMs.
    func testCloseCompletesAfterTimeoutWhenPeerNeverAnswers() throws {
        let (client, server) = try pair()
        try pump(client, server)
        let closed = client.channel.close()
        client.channel.embeddedEventLoop.advanceTime(by: .milliseconds(TLSConfiguration.closeNotifyTimeoutMsDefault))
        XCTAssertFalse(client.channel.isActive)
        XCTAssertNoThrow(try closed.wait())
    }

    // Writes not yet flushed when the channel closes fail; writes after close fail too.
    func testUnflushedAndLateWritesFailWithClosed() throws {
        let (client, server) = try pair()
        try pump(client, server)
        let unflushed = client.channel.write(ByteBuffer(string: "never flushed"))
        _ = client.channel.close()
        let late = client.channel.writeAndFlush(ByteBuffer(string: "too late"))
        XCTAssertThrowsError(try unflushed.wait()) { XCTAssertTLSError($0, .closed) }
        XCTAssertThrowsError(try late.wait()) { XCTAssertTLSError($0, .closed) }
    }

    // Before the handshake completes, queued plaintext is bounded. A write past the bound
    // fails the connection, not just itself: later writes going on would leave a hole in
    // the stream, so the writes queued before it fail too, and nothing is sent.
    func testWritesBeforeHandshakeAreBounded() throws {
        let (client, _) = try pair()
        let limit = TLSHandler.pendingWriteBytesBeforeHandshakeMax
        let fits = client.channel.write(ByteBuffer(repeating: 1, count: limit))
        let overflows = client.channel.write(ByteBuffer(repeating: 2, count: 1))
        XCTAssertThrowsError(try overflows.wait()) { XCTAssertTLSError($0, .writeBufferFull) }
        XCTAssertThrowsError(try fits.wait()) { XCTAssertTLSError($0, .writeBufferFull) }
        XCTAssertFalse(client.channel.isActive, "the connection failed")
    }

    // A server whose client never speaks gives up at the handshake timeout.
    func testHandshakeTimeoutClosesAConnectionThatNeverSpeaks() throws {
        let pki = Self.pki!
        var configuration = TLSConfiguration(
            certificateChainPath: pki.path("node-1.pem"), privateKeyPath: pki.path("node-1.key"), trustedCAPath: pki.caPath)
        configuration.handshakeTimeoutMs = 500
        let server = try endpoint(.server, configuration: configuration)
        server.channel.embeddedEventLoop.advanceTime(by: .milliseconds(499))
        XCTAssertTrue(server.channel.isActive)
        server.channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        XCTAssertFalse(server.channel.isActive)
        XCTAssertTLSError(server.recorder.errors.first, .handshakeTimeout)
    }

    // Bytes that are not TLS fail the handshake on the spot, with OpenSSL's reason attached.
    func testGarbageFailsTheHandshakeWithOpenSSLReason() throws {
        let pki = Self.pki!
        let server = try endpoint(.server, configuration: TLSConfiguration(
            certificateChainPath: pki.path("node-1.pem"), privateKeyPath: pki.path("node-1.key")))
        try server.channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"))
        XCTAssertFalse(server.channel.isActive)
        XCTAssertTLSError(server.recorder.errors.first, .handshakeFailed)
        XCTAssertFalse((server.recorder.errors.first as? TLSError)?.openSSLReasons.isEmpty ?? true)
    }

    // A complete, clean session leaves nothing behind in either pipeline.
    func testCleanSessionLeavesNothingBehind() throws {
        let (client, server) = try pair()
        try pump(client, server)
        try client.channel.writeAndFlush(ByteBuffer(string: "ping")).wait()
        try pump(client, server)
        try server.channel.writeAndFlush(ByteBuffer(string: "pong")).wait()
        try pump(client, server)
        XCTAssertEqual(String(buffer: client.recorder.plaintext), "pong")
        _ = client.channel.close()
        try pump(client, server)
        XCTAssertTrue(try client.channel.finish(acceptAlreadyClosed: true).isClean)
        XCTAssertTrue(try server.channel.finish(acceptAlreadyClosed: true).isClean)
    }
}
