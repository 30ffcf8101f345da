import NIOCore
import NIOPosix

/// Plain-text `GET /metrics` (Prometheus text format) and `GET /health` on a third port,
/// HTTP/1.0 style: one request per connection, answered and closed. Deliberately tiny and
/// outside the data path; bind it to loopback unless a scraper needs it elsewhere.
final class MetricsServer: Sendable {
    static let requestBytesMax = 8 * 1024

    typealias Page = @Sendable (_ path: String) async -> (status: Int, body: String)

    private let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
    }

    var port: Int? { channel.localAddress?.port }

    static func start(host: String, port: Int, group: any EventLoopGroup, page: @escaping Page) async throws -> MetricsServer {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(MetricsRequestHandler(page: page)) }
            }
            .bind(host: host, port: port).get()
        return MetricsServer(channel: channel)
    }

    func shutdown() async {
        try? await channel.close()
    }
}

/// Reads one request head, answers it with `page`, closes.
private final class MetricsRequestHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let page: MetricsServer.Page
    private var head = ByteBuffer()
    private var answered = false

    init(page: @escaping MetricsServer.Page) {
        self.page = page
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        var chunk = unwrapInboundIn(data)
        head.writeBuffer(&chunk)
        let text = String(buffer: head)
        guard text.contains("\r\n\r\n") || text.contains("\n\n") else {
            if head.readableBytes > MetricsServer.requestBytesMax { context.close(promise: nil) }
            return
        }
        answered = true
        let parts = text.split(separator: " ", maxSplits: 2)
        let path = parts.count >= 2 && parts[0] == "GET" ? String(parts[1]) : ""
        let channel = context.channel
        let page = self.page
        let promise = context.eventLoop.makePromise(of: (status: Int, body: String).self)
        promise.completeWithTask { await page(path) }
        promise.futureResult.whenSuccess { status, body in
            let reason = status == 200 ? "OK" : status == 503 ? "Service Unavailable" : "Not Found"
            let response = "HTTP/1.0 \(status) \(reason)\r\nContent-Type: text/plain; version=0.0.4\r\n"
                + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
            channel.writeAndFlush(ByteBuffer(string: response)).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
