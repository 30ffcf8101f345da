import CartRPC
import CartTestSupport
import CartWire
import NIOCore
import XCTest

/// Server streams: delivery in order, credit flow control, and cleanup when the consumer
/// goes away.
final class StreamTests: XCTestCase {
    /// A stream of 100 items ends with a stream end; the client reads far more items than
    /// the credit window (4), so credit must be granted as it reads.
    func testStreamDeliversEveryItemAcrossManyCreditGrantsThenEnds() async throws {
        let bed = try TestBed()
        let probe = HandlerProbe()
        let server = try await bed.startServer({ $0.streamCreditInitial = 4 },
                                               register: { TestMethods.register(on: $0, probe: probe) })
        let client = bed.client(server)
        let count = try await within(30, "the stream") {
            var received = 0
            for try await item in try await client.stream(TestMethods.counted, CountedStream(payload: [1, 2, 3], count: 100)) {
                XCTAssertEqual(item, ByteBuffer(bytes: [1, 2, 3]))
                received += 1
            }
            return received
        }
        XCTAssertEqual(count, 100)
        await client.shutdown()
        await server.shutdown()
    }

    /// A consumer that opens a stream and stops reading: the producer sends the credit
    /// window and is then suspended; nothing more is produced, so server memory stays
    /// bounded by the window. Reading again resumes it.
    func testStalledConsumerSuspendsTheProducerAtTheCreditWindow() async throws {
        let bed = try TestBed()
        let probe = HandlerProbe()
        let window = 8
        let server = try await bed.startServer({ $0.streamCreditInitial = UInt32(window) },
                                               register: { TestMethods.register(on: $0, probe: probe) })
        let client = bed.client(server)
        let stream = try await client.stream(TestMethods.endless, ByteBuffer(repeating: 1, count: 1_000))
        try await eventually(10, "the producer uses the window") { probe.producedCount == window }
        try await Task.sleep(for: .milliseconds(300))  // a producer ignoring credit would race ahead here
        XCTAssertEqual(probe.producedCount, window, "the producer must not run ahead of the granted credit")

        let read = try await within(10, "reading resumes the stream") {
            var iterator = stream.makeAsyncIterator()
            var read = 0
            while read < window * 4, try await iterator.next() != nil { read += 1 }
            return read
        }
        XCTAssertEqual(read, window * 4)
        try await eventually(10, "the producer resumes") { probe.producedCount > window }
        XCTAssertLessThanOrEqual(probe.producedCount, window * 4 * 2 + window)
        await client.shutdown()
        try await eventually(10, "the producer is cancelled") { probe.cancelledCount == 1 }
        await server.shutdown()
    }

    /// A caller that grants a huge credit and stops reading its socket: the server must not
    /// buffer items up to the credit (64 KiB items, 4 billion credits), but park the producer
    /// once the connection's outbound buffer is full, as for unary answers. Only what the
    /// sockets hold gets through; reading again resumes the stream where it stopped.
    func testAStreamWhoseCallerStopsReadingHoldsTheProducerWhateverTheCredit() async throws {
        let bed = try TestBed()
        let probe = HandlerProbe()
        let server = try await bed.startServer({ $0.frameBytesMax = 1 << 20 },
                                               register: { TestMethods.register(on: $0, probe: probe) })
        let raw = try await RawConnection.connect(port: server.port!, tls: bed.clientTLS)
        try await raw.sendHello()
        _ = try await raw.frame(.helloAck)
        try await raw.setReceiveBufferBytes(64 * 1024)
        try await raw.setAutoRead(false)
        let itemBytes = 64 * 1024
        try await raw.send(Frame(.request, stream: 1, method: TestMethods.endless.id,
                                 payload: ByteBuffer(repeating: 3, count: itemBytes)))
        try await raw.send(Frame(.credit, stream: 1, payload: ByteBuffer(bytes: try BinaryEncoder().encode(Credit(count: .max)))))

        // Until the producer stops making progress for half a second (or runs far ahead).
        var last = -1
        for _ in 0..<40 {
            try await Task.sleep(for: .milliseconds(500))
            let now = probe.producedCount
            if now == last || now > 4_000 { break }
            last = now
        }
        let produced = probe.producedCount
        XCTAssertGreaterThan(produced, 0)
        XCTAssertLessThan(produced, 1_000, "the server buffered \((produced * itemBytes) >> 20) MiB for a caller that does not read")

        try await raw.setAutoRead(true)
        try await eventually(20, "reading again resumes the producer") { probe.producedCount > produced + 100 }
        await raw.close()
        try await eventually(10, "the producer is cancelled with the connection") { probe.cancelledCount == 1 }
        await server.shutdown()
    }

    /// `send(contentsOf:)` larger than the credit window: every item arrives once, in order,
    /// and a send returns only once its last item is written, so a consumer that stops
    /// reading holds the producer inside its first send.
    func testABatchedSendLargerThanTheCreditWindowWaitsForCreditAndKeepsOrder() async throws {
        let bed = try TestBed()
        let probe = HandlerProbe()
        let window = 4
        let server = try await bed.startServer({ $0.streamCreditInitial = UInt32(window) },
                                               register: { TestMethods.register(on: $0, probe: probe) })
        let client = bed.client(server)
        let stream = try await client.stream(TestMethods.batched, BatchedStream(count: 100, batch: 10))
        try await Task.sleep(for: .milliseconds(300))  // a send ignoring credit would finish here
        XCTAssertEqual(probe.producedCount, 0, "the first send of 10 items must wait for credit beyond the window of 4")

        let received = try await within(30, "the stream") {
            var received: [UInt32] = []
            for try await item in stream { received.append(try XCTUnwrap(item.getInteger(at: item.readerIndex, as: UInt32.self))) }
            return received
        }
        XCTAssertEqual(received, Array(0..<100))
        XCTAssertEqual(probe.producedCount, 10)
        await client.shutdown()
        await server.shutdown()
    }

    /// A client that disappears mid-stream: the server cancels the stream's producer and the
    /// connection count drops back to zero.
    func testClientDyingMidStreamCancelsTheProducerAndFreesTheConnection() async throws {
        let bed = try TestBed()
        let probe = HandlerProbe()
        let server = try await bed.startServer(register: { TestMethods.register(on: $0, probe: probe) })
        let client = bed.client(server)
        let stream = try await client.stream(TestMethods.endless, bytes("tick"))
        var iterator = stream.makeAsyncIterator()
        for _ in 0..<10 { _ = try await iterator.next() }
        XCTAssertEqual(server.connectionCount, 1)
        await client.shutdown()  // the socket closes with the stream still open
        try await eventually(10, "the producer is cancelled") { probe.cancelledCount == 1 }
        try await eventually(10, "the connection is gone") { server.connectionCount == 0 }
        await server.shutdown()
    }

    /// Cancelling the consuming task sends a cancel frame: the producer stops, and the
    /// connection stays usable.
    func testCancellingTheConsumerTaskCancelsTheProducer() async throws {
        let bed = try TestBed()
        let probe = HandlerProbe()
        let server = try await bed.startServer(register: { TestMethods.register(on: $0, probe: probe) })
        let client = bed.client(server)
        let consumer = Task {
            var seen = 0
            for try await _ in try await client.stream(TestMethods.endless, bytes("tick")) { seen += 1 }
            return seen
        }
        try await eventually(10, "items flow") { probe.producedCount > 10 }
        consumer.cancel()
        _ = try? await consumer.value
        try await eventually(10, "the producer is cancelled") { probe.cancelledCount == 1 }
        let reply = try await client.call(.echo, bytes("still here"), timeout: .seconds(5))
        XCTAssertEqual(reply, bytes("still here"))
        await client.shutdown()
        await server.shutdown()
    }

    /// The built-in echo stream repeats its payload until the caller stops reading and cancels.
    func testBuiltinEchoStreamRepeatsThePayloadUntilCancelled() async throws {
        let bed = try TestBed()
        let server = try await bed.startServer()
        let client = bed.client(server)
        let items = try await within(10, "five items") {
            var iterator = try await client.stream(.echoStream, bytes("again")).makeAsyncIterator()
            var items: [ByteBuffer] = []
            while items.count < 5, let item = try await iterator.next() { items.append(item) }
            return items
        }
        XCTAssertEqual(items, Array(repeating: bytes("again"), count: 5))
        await client.shutdown()
        await server.shutdown()
    }
}
