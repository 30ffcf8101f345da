import CartRPC
import CartTLS
import NIOConcurrencyHelpers

/// One `RPCClient` (a few connections, reconnecting on demand) per node endpoint, made on
/// first use. Endpoints come from configuration, `Cluster.status` and leader hints; the
/// number of nodes bounds the pool.
final class NodePool: Sendable {
    /// More distinct endpoints than any sane cluster has: a node sending made-up hints
    /// cannot make the client open connections without end.
    static let endpointsMax = 256

    private let configuration: CartClientConfiguration
    private let clients = NIOLockedValueBox<[Endpoint: RPCClient]>([:])

    init(configuration: CartClientConfiguration) {
        self.configuration = configuration
    }

    func client(for endpoint: Endpoint) throws(CartClientError) -> RPCClient {
        let client: RPCClient? = clients.withLockedValue { clients in
            if let existing = clients[endpoint] { return existing }
            guard clients.count < Self.endpointsMax else { return nil }
            let made = RPCClient(configuration: rpcConfiguration(endpoint))
            clients[endpoint] = made
            return made
        }
        guard let client else {
            throw CartClientError(.resourceExhausted, "more than \(Self.endpointsMax) node endpoints")
        }
        return client
    }

    func shutdown() async {
        let all = clients.withLockedValue { clients in
            defer { clients.removeAll() }
            return Array(clients.values)
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
        // The client's own retry loop moves to another node; the slot must not sit in a
        // long reconnect backoff against a node that is down.
        rpc.connectAttemptsMax = 1
        rpc.callTimeoutMsDefault = nil
        return rpc
    }
}
