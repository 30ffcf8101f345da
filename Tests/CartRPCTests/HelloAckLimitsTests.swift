import CartRPC
import CartTLS
import CartTestSupport
import CartWire
import NIOCore
import NIOPosix
import XCTest

/// A client refuses a server whose hello-ack gives it nothing to work with.
final class HelloAckLimitsTests: XCTestCase {
    /// A server answering the hello with zero stream credit (or zero streams, frame bytes,
    /// keepalive) would leave every stream waiting for ever: the client closes the
    /// connection as a protocol violation, and its calls fail with that reason.
    func testAHelloAckWithAZeroLimitIsAProtocolViolation() async throws {
        let bed = try TestBed()
        let zeroed: [(String, (inout HelloAck) -> Void)] = [
            ("credit", { $0.streamCreditInitial = 0 }),
            ("streams", { $0.streamsConcurrentMax = 0 }),
            ("frame bytes", { $0.frameBytesMax = 0 }),
            ("keepalive", { $0.keepaliveIntervalMs = 0 }),
        ]
        for (what, zero) in zeroed {
            var ack = HelloAck(version: 1, identity: "zero-\(what)")
            zero(&ack)
            let server = try await HelloAckServer.start(tls: bed.serverTLS, ack: ack)
            let client = RPCClient(configuration: {
                var configuration = bed.clientConfiguration(port: server.port)
                configuration.connectAttemptsMax = 1
                return configuration
            }())
            await assertRPCError(.protocolViolation) { try await client.call(.echo, ByteBuffer(string: "hi"), timeout: .seconds(5)) }
            await client.shutdown()
            try await server.stop()
        }
    }
}

/// A TLS server that answers every hello with a fixed hello-ack and ignores everything else.
private struct HelloAckServer {
    let channel: any Channel
    var port: Int { channel.localAddress!.port! }

    static func start(tls: TLSContext, ack: HelloAck) async throws -> HelloAckServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(TLSHandler(context: tls, role: .server))
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(limits: FrameLimits(frameBytesMax: 1 << 20))))
                    try channel.pipeline.syncOperations.addHandler(AckHandler(ack: ack))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return HelloAckServer(channel: channel)
    }

    func stop() async throws {
        try await channel.close()
    }

    private final class AckHandler: ChannelInboundHandler {
        typealias InboundIn = Frame
        let ack: HelloAck
        init(ack: HelloAck) { self.ack = ack }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard Self.unwrapInboundIn(data).type == .hello else { return }
            let payload = ByteBuffer(bytes: try! BinaryEncoder().encode(ack))
            let bytes = try! FrameCodec.encode(Frame(.helloAck, stream: .connection, payload: payload), limits: FrameLimits(frameBytesMax: 1 << 20))
            context.writeAndFlush(NIOAny(bytes), promise: nil)
        }
    }
}
