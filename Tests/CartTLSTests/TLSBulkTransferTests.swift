import CartTLS
import NIOCore
import NIOPosix
import XCTest

/// Sends `stream` in writes of random sizes, only while the channel is writable, and collects
/// everything that comes back.
final class RandomSizeSender: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private var remaining: ByteBuffer
    private var generator: SplitMix64
    private let writeBytesMax: Int

    init(stream: ByteBuffer, seed: UInt64, writeBytesMax: Int) {
        self.remaining = stream
        self.generator = SplitMix64(seed: seed)
        self.writeBytesMax = writeBytesMax
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is TLSHandshakeCompleted {
            sendWhileWritable(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        sendWhileWritable(context: context)
        // Flushing from inside the notification re-enters the TLS handler while it is still
        // handing ciphertext to the channel: the stream must stay in order regardless.
        context.flush()
        context.fireChannelWritabilityChanged()
    }

    private func sendWhileWritable(context: ChannelHandlerContext) {
        var wrote = false
        while context.channel.isWritable && remaining.readableBytes > 0 {
            let size = min(remaining.readableBytes, Int(generator.next() % UInt64(writeBytesMax)) + 1)
            context.write(wrapOutboundOut(remaining.readSlice(length: size)!), promise: nil)
            wrote = true
            // Flush at random points too, so several writes are coalesced per flush.
            if generator.next() % 4 == 0 { context.flush() }
        }
        if wrote { context.flush() }
    }
}

/// A small, seedable generator so a failing run can be replayed from its printed seed.
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

final class TLSBulkTransferTests: XCTestCase {
    static let streamBytes = 64 * 1024 * 1024
    /// Larger than the handler's slices, so single writes are emitted in several pieces.
    static let writeBytesMax = 1024 * 1024

    // 64 MiB of pseudo-random bytes go from a client to a server in writes of 1 B..1 MiB
    // and come back through an echo that reads only when it can write (autoRead off). What
    // returns must hash the same as what left: records split across reads, writes split
    // across records and coalesced across flushes all preserve the stream in both directions.
    func testSixtyFourMebibytesRoundTripByteExactWithRandomWriteSizes() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        defer { try? group.syncShutdownGracefully() }
        let pki = try TestPKI()
        defer { pki.remove() }
        let seed = UInt64.random(in: 0...UInt64.max)
        print("TLSBulkTransferTests seed: \(seed)")

        let stream = Self.makeStream(bytes: Self.streamBytes, seed: seed)
        let serverSignals = ProbeSignals()
        let server = try Loopback.startServer(
            group: group,
            tls: try TLSContext(configuration: .mutualTLS(
                certificateChainPath: pki.path("node-1.pem"), privateKeyPath: pki.path("node-1.key"), trustedCAPath: pki.caPath)),
            signals: serverSignals, autoRead: false, extraHandlers: { [BackpressuredEcho()] })
        defer { try? server.close().wait() }

        let echoed = group.next().makePromise(of: ByteBuffer.self)
        let clientSignals = ProbeSignals()
        let client = try Loopback.connect(
            group: group, port: server.localAddress!.port!,
            tls: try TLSContext(configuration: .mutualTLS(
                certificateChainPath: pki.path("node-2.pem"), privateKeyPath: pki.path("node-2.key"), trustedCAPath: pki.caPath)),
            expectedPeerName: "node-1", signals: clientSignals,
            extraHandlers: {
                [RandomSizeSender(stream: stream, seed: seed, writeBytesMax: Self.writeBytesMax),
                 Collector(expectedBytes: Self.streamBytes, done: echoed)]
            })
        defer { try? client.close().wait() }

        let received = try echoed.futureResult.wait(within: 300)
        XCTAssertNil(clientSignals.errorSoFar)
        XCTAssertNil(serverSignals.errorSoFar)
        XCTAssertEqual(received.readableBytes, Self.streamBytes)
        let sentHash = stream.withUnsafeReadableBytes { Crypto.sha256($0) }
        let receivedHash = received.withUnsafeReadableBytes { Crypto.sha256($0) }
        XCTAssertEqual(receivedHash, sentHash, "seed \(seed)")
    }

    static func makeStream(bytes: Int, seed: UInt64) -> ByteBuffer {
        var generator = SplitMix64(seed: seed ^ 0x5EED)
        var buffer = ByteBufferAllocator().buffer(capacity: bytes)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bytes) { target in
            for offset in stride(from: 0, to: bytes, by: 8) {
                withUnsafeBytes(of: generator.next()) { word in
                    let count = min(8, bytes - offset)
                    UnsafeMutableRawBufferPointer(rebasing: target[offset..<(offset + count)]).copyMemory(from: UnsafeRawBufferPointer(rebasing: word[0..<count]))
                }
            }
            return bytes
        }
        return buffer
    }
}
