import CartRPC
import CartTLS
import CartTestSupport
import CartWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A TLS connection that writes arbitrary bytes and records every frame the server sends
/// back: how the tests play a broken or hostile client.
final class RawConnection: Sendable {
    private let channel: any Channel
    private let collector: FrameCollector

    static func connect(port: Int, tls: TLSContext) async throws -> RawConnection {
        let collector = FrameCollector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(TLSHandler(context: tls, role: .client, expectedPeerName: "127.0.0.1"))
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(limits: FrameLimits(frameBytesMax: FrameLimits.frameBytesHardCap))))
                    try channel.pipeline.syncOperations.addHandler(FrameCollectorHandler(collector))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawConnection(channel: channel, collector: collector)
    }

    private init(channel: any Channel, collector: FrameCollector) {
        self.channel = channel
        self.collector = collector
    }

    /// Stops (or resumes) reading what the server sends.
    func setAutoRead(_ on: Bool) async throws {
        try await channel.setOption(ChannelOptions.autoRead, value: on).get()
    }

    /// With auto-read off: reads once (a few socket reads' worth) and stops again.
    func readOnce() {
        channel.read()
    }

    /// Shrinks this socket's receive buffer (a fixed size also turns off its autotuning).
    func setReceiveBufferBytes(_ bytes: Int32) async throws {
        try await channel.setOption(ChannelOptions.socketOption(.so_rcvbuf), value: ChannelOptions.Types.SocketOption.Value(bytes)).get()
    }

    func send(_ bytes: ByteBuffer) async throws {
        try await channel.writeAndFlush(bytes)
    }

    func send(_ frame: Frame) async throws {
        try await send(try FrameCodec.encode(frame, limits: FrameLimits(frameBytesMax: FrameLimits.frameBytesHardCap)))
    }

    func sendHello(versions: [UInt8] = WireProtocol.versionsSupported) async throws {
        let hello = Hello(versions: versions, role: .client, identity: "raw")
        try await send(Frame(.hello, stream: .connection, payload: ByteBuffer(bytes: try BinaryEncoder().encode(hello))))
    }

    /// Waits for a frame of `type` and returns it.
    func frame(_ type: FrameType, within seconds: Double = 10) async throws -> Frame {
        let collector = self.collector
        try await eventually(seconds, "a \(type) frame") { collector.frames.contains { $0.type == type } }
        return collector.frames.first { $0.type == type }!
    }

    /// Waits for the error frame and decodes it.
    func error(within seconds: Double = 10) async throws -> ErrorPayload {
        try BinaryDecoder().decode(ErrorPayload.self, from: try await frame(.error, within: seconds).payload)
    }

    func waitUntilClosed(within seconds: Double = 10) async throws {
        let collector = self.collector
        try await eventually(seconds, "the server closes the connection") { collector.isClosed }
    }

    func close() async {
        try? await channel.close()
    }

    /// Every frame received so far, in order.
    var framesReceived: [Frame] { collector.frames }

    /// Whether the server closed the connection (as far as read so far).
    var isClosed: Bool { collector.isClosed }
}

final class FrameCollector: Sendable {
    private let state = NIOLockedValueBox((frames: [Frame](), closed: false))
    func append(_ frame: Frame) { state.withLockedValue { $0.frames.append(frame) } }
    func markClosed() { state.withLockedValue { $0.closed = true } }
    var frames: [Frame] { state.withLockedValue { $0.frames } }
    var isClosed: Bool { state.withLockedValue { $0.closed } }
}

final class FrameCollectorHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    private let collector: FrameCollector
    init(_ collector: FrameCollector) { self.collector = collector }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        collector.append(Self.unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        collector.markClosed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
