import ArgumentParser
import CartLoad
import CartRPC
import CartTLS
import Dispatch
import Foundation
import NIOCore
import NIOPosix

/// `cartload`: load generator for SharedCart. `rpc` drives echo calls against any server
/// speaking the RPC protocol; `serve-echo` runs a bare echo server to drive against.
@main
struct CartLoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cartload",
        abstract: "Load generator for SharedCart.",
        subcommands: [CartsLoad.self, RPCLoad.self, ServeEcho.self]
    )
}

struct TLSOptions: ParsableArguments {
    @Flag(inversion: .prefixedNo, help: "Use TLS.") var tls = true
    @Option(help: "PEM CA bundle to trust.") var ca: String?
    @Option(help: "PEM certificate chain (server: required with TLS; client: for mutual TLS).") var cert: String?
    @Option(help: "PEM private key matching --cert.") var key: String?

    func security(expectedPeerName: String?) throws -> RPCTransportSecurity {
        guard tls else { return .plaintext }
        let context = try TLSContext(configuration: TLSConfiguration(
            certificateChainPath: cert, privateKeyPath: key, trustedCAPath: ca))
        return .tls(context, expectedPeerName: expectedPeerName)
    }
}

struct RPCLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rpc",
        abstract: "Echo calls: N connections × M in flight (closed loop), or a constant rate (--rate, open loop)."
    )

    @Option(help: "Server address.") var host = "127.0.0.1"
    @Option(help: "Server port.") var port: Int
    @Option(help: "TCP connections.") var connections = 4
    @Option(help: "Calls in flight in total, spread over the connections.") var concurrency = 64
    @Option(name: .customLong("payload-bytes"), help: "Echo payload size.") var payloadBytes = 128
    @Option(help: "Measured seconds, after a 1 s warm-up.") var duration = 10.0
    @Option(help: "Open loop: calls per second in total; latency counts from the intended send time.") var rate: Double?
    @Option(help: "Event loop threads (default: number of cores).") var threads = System.coreCount
    @Flag(help: "Print exactly one JSON line on stdout (the summary goes to stderr).") var json = false
    @OptionGroup var tlsOptions: TLSOptions

    func validate() throws {
        guard connections >= 1, concurrency >= connections, duration > 0, payloadBytes >= 0, threads >= 1 else {
            throw ValidationError("need connections >= 1, concurrency >= connections, duration > 0, payload-bytes >= 0")
        }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
    }

    func run() async throws {
        let options = LoadOptions(host: host, port: port, security: try tlsOptions.security(expectedPeerName: host),
                                  connections: connections, concurrency: concurrency, payloadBytes: payloadBytes,
                                  durationSeconds: duration, ratePerSecond: rate, threads: threads)
        let report = try await LoadRunner.run(options)
        if json {
            FileHandle.standardError.write(Data((report.summary + "\n").utf8))
            print(report.json)
        } else {
            print(report.summary)
        }
    }
}

struct ServeEcho: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve-echo",
        abstract: "Run an RPC server answering the built-in echo and ping until SIGINT or SIGTERM."
    )

    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Port to bind (0 = any free port).") var port = 0
    @Option(help: "Event loop threads (default: number of cores).") var threads = System.coreCount
    @OptionGroup var tlsOptions: TLSOptions

    func validate() throws {
        if tlsOptions.tls && (tlsOptions.cert == nil || tlsOptions.key == nil) {
            throw ValidationError("TLS needs --cert and --key (or pass --no-tls)")
        }
    }

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let server = try await EchoServer.start(host: host, port: port, security: try tlsOptions.security(expectedPeerName: nil),
                                                group: group)
        print("listening on \(host):\(server.port ?? port) tls=\(tlsOptions.tls)")
        fflush(nil)
        await waitForTermination()
        await server.shutdown()
        try await group.shutdownGracefully()
    }

    private func waitForTermination() async {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        let sources = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield() }
            source.resume()
            return source
        }
        for await _ in stream { break }
        sources.forEach { $0.cancel() }
    }
}
