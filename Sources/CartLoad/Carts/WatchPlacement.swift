import CartClient
import CartTypes

/// Where `watch-fanout` puts its watchers: the cart's partition leader and the cluster's
/// nodes, as `Cluster.status` reports them, and the node list each watcher's client gets.
/// Watcher clients do not follow leaders, so each watch opens on the first node of its list
/// and stays there unless that node fails.
struct WatchPlacement: Sendable {
    /// Status reads while waiting for the partition to have a leader (an election).
    static let leaderLookupAttemptsMax = 50
    static let leaderLookupPauseMs: UInt64 = 100

    struct NoLeader: Error, CustomStringConvertible {
        let description: String
    }

    /// The client endpoint of the node leading the cart's partition.
    let leader: Endpoint
    /// Every member's client endpoint, in member order.
    let members: [Endpoint]

    static func find(_ cart: CartID, asking client: CartClient) async throws -> WatchPlacement {
        for _ in 0..<leaderLookupAttemptsMax {
            let status = try await client.clusterStatus()
            let partition = PartitionMap(partitionCount: status.partitionCount).partition(of: cart)
            let members = status.nodes.compactMap { member in (try? Endpoint(parsing: member.clientAddress)).map { (member.node, $0) } }
            if let leader = status.partitions.first(where: { $0.partition == partition })?.leader,
               let endpoint = members.first(where: { $0.0 == leader })?.1 {
                return WatchPlacement(leader: endpoint, members: members.map(\.1))
            }
            try await Task.sleep(for: .milliseconds(leaderLookupPauseMs))
        }
        throw NoLeader(description: "no node reported a leader for cart \(cart)'s partition")
    }

    /// The nodes watcher `index` tries, first choice first.
    func endpoints(forWatcher index: Int, _ node: CartLoadOptions.WatchNode) -> [Endpoint] {
        switch node {
        case .leader:
            return [leader] + members.filter { $0 != leader }
        case .any:
            let start = index % members.count
            return Array(members[start...] + members[..<start])
        }
    }
}
