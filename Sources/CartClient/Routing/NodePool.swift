import CartRPC
import CartTLS
import NIOConcurrencyHelpers
import NIOCore

/// One `RPCClient` (a few connections, reconnecting on demand) per node endpoint, made on
/// first use. Endpoints come from configuration, `Cluster.status` and leader hints; the
/// number of nodes bounds the pool.
final class NodePool: Sendable {
    /// More distinct endpoints than any sane cluster has: a node sending made-up hints
    /// cannot make the client open connections without end.
    static let endpointsMax = 256

    private struct State {
        var clients: [Endpoint: RPCClient] = [:]
        var shutDown = false
    }

    private let configuration: CartClientConfiguration
    private let state = NIOLockedValueBox(State())

    init(configuration: CartClientConfiguration) {
        self.configuration = configuration
    }

    /// The endpoint's client; after `shutdown()` a `cancelled` error, which ends the caller's
    /// retries and watches instead of letting them connect again.
    func client(for endpoint: Endpoint) throws(CartClientError) -> RPCClient {
        let client: Result<RPCClient, CartClientError> = state.withLockedValue { state in
            if state.shutDown { return .failure(CartClientError(.cancelled, "the client was shut down")) }
            if let existing = state.clients[endpoint] { return .success(existing) }
            guard state.clients.count < Self.endpointsMax else {
                return .failure(CartClientError(.resourceExhausted, "more than \(Self.endpointsMax) node endpoints"))
            }
            let made = RPCClient(configuration: rpcConfiguration(endpoint))
            state.clients[endpoint] = made
            return .success(made)
        }
        return try client.get()
    }

    /// Whether the endpoint is left alone: it answered nothing within the last `holdMs` (see
    /// `CartClientConfiguration.unreachableNodeHoldMs`), or nothing since, while one
    /// connection attempt finds out (`RPCClient.isHeld`); false for one never tried.
    func isUnreachable(_ endpoint: Endpoint, holdMs: Int64) -> Bool {
        state.withLockedValue { $0.clients[endpoint] }?.isHeld(holdMs: holdMs) ?? false
    }

    func shutdown() async {
        let all = state.withLockedValue { state in
            state.shutDown = true
            defer { state.clients.removeAll() }
            return Array(state.clients.values)
        }
        for client in all { await client.shutdown() }
    }

    private func rpcConfiguration(_ endpoint: Endpoint) -> RPCClientConfiguration {
        let security: RPCTransportSecurity = configuration.tls.map { .tls($0, expectedPeerName: endpoint.host) } ?? .plaintext
        var rpc = RPCClientConfiguration(host: endpoint.host, port: endpoint.port, security: security,
                                         identity: configuration.identity, eventLoopGroup: configuration.eventLoopGroup)
        rpc.authToken = configuration.authToken
        rpc.connectionsPerEndpoint = configuration.connectionsPerNode
        rpc.connectTimeoutMs = configuration.connectTimeoutMs
        rpc.stallProbeIntervalMs = max(1, configuration.stallTimeoutMs / 2)
        // The client's own retry loop moves to another node; the slot must not sit in a
        // long reconnect backoff against a node that is down.
        rpc.connectAttemptsMax = 1
        rpc.callTimeoutMsDefault = nil
        return rpc
    }
}
