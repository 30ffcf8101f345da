import CartAPI
import CartTypes

/// One node's answer to `Cluster.status`, or why it gave none.
public struct NodeStatus: Sendable {
    public let endpoint: Endpoint
    public let result: Result<ClusterStatusReply, CartClientError>
}

extension CartClient {
    /// The status as one node (any, or `endpoint`) sees it. Also refreshes the client's
    /// routing.
    public func clusterStatus(at endpoint: Endpoint? = nil) async throws(CartClientError) -> ClusterStatusReply {
        let status = try await call(.clusterStatus, ClusterStatusRequest(), route: endpoint.map(Route.node) ?? .anyNode,
                                    timeoutMs: 3_000)
        if configuration.followLeaders { routing.learn(status) }
        return status
    }

    /// Every known node's status, asked in parallel; a node that does not answer is
    /// reported with its error rather than failing the whole picture.
    public func clusterStatusOfEveryNode() async -> [NodeStatus] {
        if (try? await clusterStatus()) == nil { /* the per-node answers below say why */ }
        let endpoints = routing.knownEndpoints
        return await withTaskGroup(of: NodeStatus.self) { group in
            for endpoint in endpoints {
                group.addTask {
                    do throws(CartClientError) {
                        return NodeStatus(endpoint: endpoint, result: .success(try await self.clusterStatus(at: endpoint)))
                    } catch {
                        return NodeStatus(endpoint: endpoint, result: .failure(error))
                    }
                }
            }
            var all: [NodeStatus] = []
            for await status in group { all.append(status) }
            return all.sorted { $0.endpoint.description < $1.endpoint.description }
        }
    }

    public func health(at endpoint: Endpoint? = nil, timeoutMs: Int64 = 3_000) async throws(CartClientError) -> HealthReply {
        try await call(.clusterHealth, ClusterStatusRequest(), route: endpoint.map(Route.node) ?? .anyNode, timeoutMs: timeoutMs)
    }
}
