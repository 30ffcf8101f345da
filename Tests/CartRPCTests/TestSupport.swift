import CartRPC
import CartTLS
import CartTestSupport
import CartWire
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import XCTest

/// A throwaway PKI made by the real `tools/gen-certs` in a temp directory, shared by the
/// tests of one process (TLS contexts are read-only once built).
enum TestPKI {
    static let shared: Result<(server: TLSContext, client: TLSContext, directory: URL), any Error> = Result {
        let directory = try makeTestPKI(nodes: 1, prefix: "cartrpc-pki")
        let path = { (name: String) in directory.appendingPathComponent(name).path }
        let server = try TLSContext(configuration: TLSConfiguration(
            certificateChainPath: path("node-1.pem"), privateKeyPath: path("node-1.key"), trustedCAPath: path("ca.pem")))
        let client = try TLSContext(configuration: TLSConfiguration(trustedCAPath: path("ca.pem")))
        return (server, client, directory)
    }
}


/// Server and client configurations for one test: TLS on 127.0.0.1, port 0.
struct TestBed {
    let serverTLS: TLSContext
    let clientTLS: TLSContext

    init() throws {
        let pki = try TestPKI.shared.get()
        serverTLS = pki.server
        clientTLS = pki.client
    }

    func serverConfiguration() -> RPCServerConfiguration {
        RPCServerConfiguration(port: 0, security: .tls(serverTLS))
    }

    func clientConfiguration(port: Int) -> RPCClientConfiguration {
        var configuration = RPCClientConfiguration(port: port, security: .tls(clientTLS, expectedPeerName: "127.0.0.1"),
                                                   identity: "cartrpc-tests")
        configuration.connectAttemptsMax = 3
        configuration.reconnectBackoffInitialMs = 20
        configuration.callTimeoutMsDefault = 20_000
        return configuration
    }

    func startServer(_ configure: (inout RPCServerConfiguration) -> Void = { _ in },
                     register: (RPCServer) -> Void = { _ in }) async throws -> RPCServer {
        var configuration = serverConfiguration()
        configure(&configuration)
        let server = RPCServer(configuration: configuration)
        register(server)
        try await server.start()
        return server
    }

    func client(_ server: RPCServer, _ configure: (inout RPCClientConfiguration) -> Void = { _ in }) -> RPCClient {
        var configuration = clientConfiguration(port: server.port!)
        configure(&configuration)
        return RPCClient(configuration: configuration)
    }
}

/// Runs `body`, failing if it takes longer than `seconds`: every wait in these tests is bounded.
func within<T: Sendable>(_ seconds: Double, _ what: String = "the operation",
                         _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            return nil
        }
        guard let first = try await group.next(), let value = first else {
            group.cancelAll()
            throw TestFailure("\(what) did not finish within \(seconds) s")
        }
        group.cancelAll()
        return value
    }
}

/// Events a test handler reports to the test: started, saw cancellation, items produced.
final class HandlerProbe: Sendable {
    private let state = NIOLockedValueBox((started: 0, cancelled: 0, produced: 0))
    func started() { state.withLockedValue { $0.started += 1 } }
    func cancelled() { state.withLockedValue { $0.cancelled += 1 } }
    func produced() { state.withLockedValue { $0.produced += 1 } }
    var startedCount: Int { state.withLockedValue { $0.started } }
    var cancelledCount: Int { state.withLockedValue { $0.cancelled } }
    var producedCount: Int { state.withLockedValue { $0.produced } }
}

/// Test-only methods, with ids in the service range.
enum TestMethods {
    /// Echoes after a delay given in the first byte (milliseconds), so answers come out of order.
    static let delayedEcho = RPCMethod<ByteBuffer, ByteBuffer>(id: 200, name: "Test.delayedEcho", kind: .unary)
    /// Sleeps until cancelled (or 30 s).
    static let hang = RPCMethod<ByteBuffer, ByteBuffer>(id: 201, name: "Test.hang", kind: .unary)
    /// Streams items until cancelled.
    static let endless = RPCMethod<ByteBuffer, ByteBuffer>(id: 202, name: "Test.endless", kind: .serverStream)
    /// Streams the payload `count` times, then ends.
    static let counted = RPCMethod<CountedStream, ByteBuffer>(id: 203, name: "Test.counted", kind: .serverStream)
    /// Streams items 0..<count (each a big-endian UInt32) in sends of `batch` items each
    /// (`send(contentsOf:)`); the probe counts finished sends as produced.
    static let batched = RPCMethod<BatchedStream, ByteBuffer>(id: 204, name: "Test.batched", kind: .serverStream)
    /// Not registered anywhere.
    static let missing = RPCMethod<ByteBuffer, ByteBuffer>(id: 999, name: "Test.missing", kind: .unary)

    static func register(on server: RPCServer, probe: HandlerProbe) {
        server.register(delayedEcho) { request, _ in
            let delayMs = Int(request.getInteger(at: request.readerIndex, as: UInt8.self) ?? 0)
            try await Task.sleep(for: .milliseconds(delayMs))
            return request
        }
        server.register(hang) { request, _ in
            probe.started()
            do {
                try await Task.sleep(for: .seconds(30))
            } catch {
                probe.cancelled()
                throw error
            }
            return request
        }
        server.registerStream(counted) { request, _, writer in
            for _ in 0..<request.count { try await writer.send(ByteBuffer(bytes: request.payload)) }
        }
        server.registerStream(batched) { request, _, writer in
            var next: UInt32 = 0
            while next < request.count {
                let end = min(request.count, next + request.batch)
                try await writer.send(contentsOf: (next..<end).map { ByteBuffer(integer: $0) })
                probe.produced()
                next = end
            }
        }
        server.registerStream(endless) { request, _, writer in
            probe.started()
            do {
                while true {
                    try await writer.send(request)
                    probe.produced()
                }
            } catch {
                probe.cancelled()
                throw error
            }
        }
    }
}

func bytes(_ string: String) -> ByteBuffer { ByteBuffer(string: string) }

/// The argument of `TestMethods.counted`.
struct CountedStream: Codable, Sendable, RPCMessage {
    var payload: [UInt8]
    var count: UInt32

    enum CodingKeys: Int, CodingKey {
        case payload = 1, count = 2
    }
}

struct BatchedStream: Codable, Sendable, RPCMessage {
    var count: UInt32
    var batch: UInt32

    enum CodingKeys: Int, CodingKey {
        case count = 1, batch = 2
    }
}
