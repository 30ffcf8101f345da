import Benchmark
import CartRPC
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

// Allocations and time of echo calls through the whole RPC stack (client handler, frame
// codec, sockets, server handler and back) on in-process loopback, plaintext, driven with
// the low-level event-loop API. One measured iteration is a chain of 1000 calls, so every
// metric is per 1000 calls (allocations of both peers: divide by 1000 for mallocs/call).

let benchmarks: @Sendable () -> Void = {
    let metrics: [BenchmarkMetric] = [.wallClock, .throughput, .mallocCountTotal]

    for inflight in [1, 32] {
        let configuration = Benchmark.Configuration(
            metrics: metrics, scalingFactor: .one, maxDuration: .seconds(3), maxIterations: 1_000,
            setup: { try await EchoPair.start() }, teardown: { await EchoPair.stop() })
        Benchmark("RPC.echo.loopback.plaintext.inflight\(inflight).per1000calls", configuration: configuration) { benchmark in
            guard let pair = EchoPair.current else { return }
            let calls = 1_000
            try await pair.connection.eventLoop.flatSubmit {
                EchoChain(connection: pair.connection, payload: pair.payload, calls: calls, inflight: inflight).run()
            }.get()
        }
    }
}

/// A server and one client connection, shared by the measurements of one benchmark.
struct EchoPair: Sendable {
    let server: RPCServer
    let client: RPCClient
    let connection: RPCConnection
    let payload: ByteBuffer

    private static let shared = NIOLockedValueBox<EchoPair?>(nil)
    static var current: EchoPair? { shared.withLockedValue { $0 } }

    static func start() async throws {
        let server = RPCServer(configuration: RPCServerConfiguration(port: 0, security: .plaintext))
        let port = try await server.start()
        let client = RPCClient(configuration: RPCClientConfiguration(port: port, security: .plaintext))
        let connection = try await client.connection()
        var payload = ByteBuffer()
        payload.writeRepeatingByte(0x61, count: 128)
        shared.withLockedValue { $0 = EchoPair(server: server, client: client, connection: connection, payload: payload) }
    }

    static func stop() async {
        guard let pair = shared.withLockedValue({ state in defer { state = nil }; return state }) else { return }
        await pair.client.shutdown()
        await pair.server.shutdown()
    }
}

/// `calls` echo calls with `inflight` outstanding at a time, on the connection's event loop.
final class EchoChain {
    private let connection: RPCConnection
    private let payload: ByteBuffer
    private var toSend: Int
    private var outstanding = 0
    private let inflight: Int
    private var done: EventLoopPromise<Void>?
    private var callback: RPCResponseCallback?

    init(connection: RPCConnection, payload: ByteBuffer, calls: Int, inflight: Int) {
        self.connection = connection
        self.payload = payload
        self.toSend = calls
        self.inflight = inflight
    }

    func run() -> EventLoopFuture<Void> {
        let done = connection.eventLoop.makePromise(of: Void.self)
        self.done = done
        callback = { _, result in
            self.outstanding -= 1
            if case .failure(let error) = result {
                self.finish(.failure(error))
            } else {
                self.sendMore()
            }
        }
        sendMore()
        return done.futureResult
    }

    private func sendMore() {
        while toSend > 0 && outstanding < inflight {
            toSend -= 1
            outstanding += 1
            connection.startCall(.echo, payload: payload, onResponse: callback!)
        }
        if toSend == 0 && outstanding == 0 { finish(.success(())) }
    }

    private func finish(_ result: Result<Void, any Error>) {
        done?.completeWith(result)
        done = nil
        callback = nil  // breaks the cycle through the closure
    }
}
