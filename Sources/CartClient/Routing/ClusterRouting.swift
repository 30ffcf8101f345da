import CartAPI
import CartGateway
import CartTypes
import CartWire
import NIOConcurrencyHelpers

/// Where to send a request: the partition map and node addresses learned from
/// `Cluster.status`, the leader of each partition (CartGateway's `LeaderCache`, fed by
/// status replies and leader hints), and a round-robin over known endpoints for requests
/// whose partition leader is unknown (any node serves any request by forwarding it).
final class ClusterRouting: Sendable {
    private struct Topology {
        var partitionMap: PartitionMap?
        var addresses: [NodeID: Endpoint] = [:]
        var nodes: [Endpoint: NodeID] = [:]
        var endpoints: [Endpoint]
        var nextEndpoint = 0
        /// Each partition's replicas, as the last status that named them said.
        var replicas: [PartitionID: [NodeID]] = [:]
        /// Each partition's turn among its replicas.
        var nextReplica: [PartitionID: UInt] = [:]
        /// The text of the last leader hint whose address was recorded, per node, so a hint
        /// repeating it need not be parsed again.
        var hintedAddresses: [NodeID: String] = [:]
    }

    let leaders = LeaderCache()
    private let topology: NIOLockedValueBox<Topology>

    init(endpoints: [Endpoint]) {
        topology = NIOLockedValueBox(Topology(endpoints: endpoints))
    }

    var partitionMap: PartitionMap? { topology.withLockedValue { $0.partitionMap } }
    var knownEndpoints: [Endpoint] { topology.withLockedValue { $0.endpoints } }

    func node(at endpoint: Endpoint) -> NodeID? { topology.withLockedValue { $0.nodes[endpoint] } }
    func endpoint(of node: NodeID) -> Endpoint? { topology.withLockedValue { $0.addresses[node] } }

    /// Takes in one node's status: the cluster's members, partition count and the leaders
    /// that node knows, with their terms.
    func learn(_ status: ClusterStatusReply) {
        topology.withLockedValue { topology in
            if status.partitionCount > 0, status.partitionCount <= PartitionMap.partitionCountMax {
                topology.partitionMap = PartitionMap(partitionCount: status.partitionCount)
            }
            for member in status.nodes {
                guard let endpoint = try? Endpoint(parsing: member.clientAddress) else { continue }
                Self.record(member.node, at: endpoint, in: &topology)
            }
            let placement = status.placement ?? status.partitions.map { PartitionReplicas(partition: $0.partition, replicas: $0.replicas) }
            for partition in placement where !partition.replicas.isEmpty {
                guard topology.replicas.count < PartitionMap.partitionCountMax || topology.replicas[partition.partition] != nil else { continue }
                topology.replicas[partition.partition] = Array(partition.replicas.prefix(NodePool.endpointsMax))
            }
        }
        for partition in status.partitions where partition.leader != .none {
            leaders.learn(LeaderCache.Leader(node: partition.leader, term: partition.term), for: partition.partition)
        }
    }

    /// A reply or error named the partition's leader: that is newer than whatever the cache
    /// holds for the node we asked, so it replaces it.
    func learn(_ hint: LeaderHint, for partition: PartitionID, askedNode: NodeID?) {
        guard hint.nodeID != .none else { return }
        // A leader names itself in every reply: when the hint repeats the cached leader at the
        // address already recorded for it, nothing would change, and parsing the address on
        // every reply was the largest cost of a busy client.
        if leaders.leader(of: partition)?.node == hint.nodeID, repeatsRecordedAddress(hint) { return }
        guard let endpoint = try? Endpoint(parsing: hint.address) else { return }
        topology.withLockedValue { topology in
            Self.record(hint.nodeID, at: endpoint, in: &topology)
            if topology.addresses[hint.nodeID] == endpoint { topology.hintedAddresses[hint.nodeID] = hint.address }
        }
        if let cached = leaders.leader(of: partition), cached.node != hint.nodeID {
            leaders.invalidate(partition, ifLeaderIs: cached.node)
        }
        leaders.learn(LeaderCache.Leader(node: hint.nodeID, term: nil), for: partition)
    }

    private func repeatsRecordedAddress(_ hint: LeaderHint) -> Bool {
        topology.withLockedValue { $0.hintedAddresses[hint.nodeID] == hint.address }
    }

    /// The node we asked answered as the leader (a leader-hinted reply without a hint).
    func confirm(_ endpoint: Endpoint, leads partition: PartitionID) {
        guard let node = node(at: endpoint), leaders.leader(of: partition)?.node != node else { return }
        if let cached = leaders.leader(of: partition) { leaders.invalidate(partition, ifLeaderIs: cached.node) }
        leaders.learn(LeaderCache.Leader(node: node, term: nil), for: partition)
    }

    /// The node we asked could not serve the partition and gave no better hint.
    func forget(_ partition: PartitionID, at endpoint: Endpoint) {
        guard let node = node(at: endpoint) else { return }
        leaders.invalidate(partition, ifLeaderIs: node)
    }

    /// The endpoint of the partition's cached leader, if its address is known.
    func leaderEndpoint(of partition: PartitionID) -> Endpoint? {
        guard let leader = leaders.leader(of: partition) else { return nil }
        return endpoint(of: leader.node)
    }

    /// The next endpoint in turn, skipping `avoiding` and those `isUnreachable` names; when
    /// that leaves none, the next not in `avoiding`; when that leaves none, the next.
    /// The turn moves past the endpoint picked, so the others share the requests evenly.
    func nextEndpoint(avoiding: Set<Endpoint>, isUnreachable: (Endpoint) -> Bool = { _ in false }) -> Endpoint {
        topology.withLockedValue { topology in
            let count = topology.endpoints.count
            let first = topology.nextEndpoint % count
            let order = (0..<count).map { (first + $0) % count }
            let picked = order.first { !avoiding.contains(topology.endpoints[$0]) && !isUnreachable(topology.endpoints[$0]) }
                ?? order.first { !avoiding.contains(topology.endpoints[$0]) }
                ?? first
            topology.nextEndpoint = (picked + 1) % count
            return topology.endpoints[picked]
        }
    }

    /// The next of `partition`'s replicas whose address is known, in turn, leaving out those
    /// in `avoiding` and, while others remain, the unreachable; `nextEndpoint` when the
    /// partition's replicas are not known or all are avoided.
    func nextReplica(of partition: PartitionID, avoiding: Set<Endpoint>, isUnreachable: (Endpoint) -> Bool = { _ in false }) -> Endpoint {
        let replica = topology.withLockedValue { topology -> Endpoint? in
            let endpoints = (topology.replicas[partition] ?? []).compactMap { topology.addresses[$0] }.filter { !avoiding.contains($0) }
            guard !endpoints.isEmpty else { return nil }
            let reachable = endpoints.filter { !isUnreachable($0) }
            let candidates = reachable.isEmpty ? endpoints : reachable
            let turn = topology.nextReplica[partition, default: 0] &+ 1
            topology.nextReplica[partition] = turn
            return candidates[Int(turn % UInt(candidates.count))]
        }
        return replica ?? nextEndpoint(avoiding: avoiding, isUnreachable: isUnreachable)
    }

    private static func record(_ node: NodeID, at endpoint: Endpoint, in topology: inout Topology) {
        guard topology.endpoints.count < NodePool.endpointsMax || topology.endpoints.contains(endpoint) else { return }
        if let old = topology.addresses[node], old != endpoint {
            topology.nodes[old] = nil
            topology.hintedAddresses[node] = nil
        }
        topology.addresses[node] = endpoint
        topology.nodes[endpoint] = node
        if !topology.endpoints.contains(endpoint) { topology.endpoints.append(endpoint) }
    }
}
