import CartTLS
import Foundation
import NIOCore
import NIOPosix

// Loopback benchmark of the TLS handler beside plain TCP, measured in the same run:
//   bulk throughput (MB/s), small-message ping-pong (round trips/s), handshakes/s.
//
//   swift run -c release tlsbench [--bulk-mib 512] [--round-trips 20000] [--message-bytes 64]
//                                 [--handshakes 500] [--certs certs]
// Certificates come from `tools/gen-certs --out <certs>` (run first if missing).

struct Options {
    var bulkMiB = 512
    var roundTrips = 20_000
    var messageBytes = 64
    var handshakes = 500
    var certsDirectory = "certs"

    static let chunkBytes = 64 * 1024

    init(arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            guard let value = iterator.next() else { Options.usage("missing value for \(flag)") }
            switch flag {
            case "--bulk-mib": bulkMiB = Options.positive(value, flag)
            case "--round-trips": roundTrips = Options.positive(value, flag)
            case "--message-bytes": messageBytes = Options.positive(value, flag)
            case "--handshakes": handshakes = Options.positive(value, flag)
            case "--certs": certsDirectory = value
            default: Options.usage("unknown flag \(flag)")
            }
        }
    }

    static func positive(_ value: String, _ flag: String) -> Int {
        guard let number = Int(value), number > 0 else { usage("\(flag) needs a positive integer") }
        return number
    }

    static func usage(_ problem: String) -> Never {
        FileHandle.standardError.write(Data("tlsbench: \(problem)\nusage: tlsbench [--bulk-mib N] [--round-trips N] [--message-bytes N] [--handshakes N] [--certs DIR]\n".utf8))
        exit(2)
    }
}

let options = Options(arguments: CommandLine.arguments)
let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
defer { try? group.syncShutdownGracefully() }

func makeContext(_ node: String) throws -> TLSContext {
    let directory = options.certsDirectory
    return try TLSContext(configuration: .mutualTLS(
        certificateChainPath: "\(directory)/\(node).pem",
        privateKeyPath: "\(directory)/\(node).key",
        trustedCAPath: "\(directory)/ca.pem"))
}

/// Starts a server whose pipeline is [TLS?] + `handler()`.
func startServer(tls: TLSContext?, _ handler: @escaping @Sendable () -> any ChannelHandler) throws -> Channel {
    try ServerBootstrap(group: group)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .serverChannelOption(.backlog, value: 256)
        .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                if let tls { try channel.pipeline.syncOperations.addHandler(TLSHandler(context: tls, role: .server)) }
                try channel.pipeline.syncOperations.addHandler(handler())
            }
        }
        .bind(host: "127.0.0.1", port: 0).wait()
}

func connect(port: Int, tls: TLSContext?, _ handler: @escaping @Sendable () -> any ChannelHandler) throws -> Channel {
    try ClientBootstrap(group: group)
        .channelOption(.socketOption(.tcp_nodelay), value: 1)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                if let tls {
                    try channel.pipeline.syncOperations.addHandler(TLSHandler(context: tls, role: .client, expectedPeerName: "node-1"))
                }
                try channel.pipeline.syncOperations.addHandler(handler())
            }
        }
        .connect(host: "127.0.0.1", port: port).wait()
}

func seconds(_ amount: TimeAmount) -> Double { Double(amount.nanoseconds) / 1e9 }

/// MB/s (10^6 bytes) moving `bulkMiB` one way, timed until the sink acknowledges.
func bulk(server: TLSContext?, client: TLSContext?) throws -> Double {
    let totalBytes = options.bulkMiB * 1024 * 1024
    let listener = try startServer(tls: server) { BulkSink(expectedBytes: totalBytes) }
    defer { try? listener.close().wait() }
    let done = group.next().makePromise(of: TimeAmount.self)
    let channel = try connect(port: listener.localAddress!.port!, tls: client) {
        BulkSource(totalBytes: totalBytes, chunkBytes: Options.chunkBytes, waitsForHandshake: client != nil, done: done)
    }
    defer { try? channel.close().wait() }
    return Double(totalBytes) / 1e6 / seconds(try done.futureResult.wait())
}

/// Round trips per second of one `messageBytes` message at a time.
func pingPong(server: TLSContext?, client: TLSContext?) throws -> Double {
    let listener = try startServer(tls: server) { Echo() }
    defer { try? listener.close().wait() }
    let done = group.next().makePromise(of: TimeAmount.self)
    let channel = try connect(port: listener.localAddress!.port!, tls: client) {
        PingPong(roundTrips: options.roundTrips, messageBytes: options.messageBytes, waitsForHandshake: client != nil, done: done)
    }
    defer { try? channel.close().wait() }
    return Double(options.roundTrips) / seconds(try done.futureResult.wait())
}

/// Sequential connections per second: connect, (full mutual-TLS handshake,) close.
func connections(server: TLSContext?, client: TLSContext?) throws -> Double {
    let listener = try startServer(tls: server) { Echo() }
    defer { try? listener.close().wait() }
    let port = listener.localAddress!.port!
    let started = NIODeadline.now()
    for _ in 0..<options.handshakes {
        let ready = group.next().makePromise(of: Void.self)
        let channel = try connect(port: port, tls: client) { HandshakeWaiter(done: ready) }
        if client != nil { try ready.futureResult.wait() } else { ready.succeed() }
        try channel.close().wait()
    }
    return Double(options.handshakes) / seconds(.now() - started)
}

func row(_ name: String, _ unit: String, plain: Double, tls: Double) {
    let label = name.padding(toLength: 10, withPad: " ", startingAt: 0)
    print(label + String(format: " plain %12.0f ", plain) + unit + String(format: "   tls %12.0f ", tls) + unit
        + String(format: "   tls/plain %.2f", tls / plain))
}

do {
    let serverTLS = try makeContext("node-1")
    let clientTLS = try makeContext("node-2")
    print("tlsbench: bulk \(options.bulkMiB) MiB in \(Options.chunkBytes / 1024) KiB writes, \(options.roundTrips) round trips of \(options.messageBytes) B, \(options.handshakes) connections; loopback, 2 event loops")
    row("bulk", "MB/s", plain: try bulk(server: nil, client: nil), tls: try bulk(server: serverTLS, client: clientTLS))
    row("ping-pong", "rt/s", plain: try pingPong(server: nil, client: nil), tls: try pingPong(server: serverTLS, client: clientTLS))
    row("connect", "/s  ", plain: try connections(server: nil, client: nil), tls: try connections(server: serverTLS, client: clientTLS))
} catch {
    FileHandle.standardError.write(Data("tlsbench failed: \(error)\n".utf8))
    exit(1)
}
