import ArgumentParser
import CartAPI
import CartClient
import CartTypes

struct ClusterGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster", abstract: "Cluster health: partitions, leaders, terms, commit indexes.",
        subcommands: [ClusterStatus.self])
}

/// The whole cluster as its nodes see it, for `--json` (what `tools/cluster` waits on).
struct ClusterPicture: Encodable {
    struct NodeView: Encodable {
        let endpoint: String
        let node: UInt64?
        let error: String?
        let partitions: [PartitionView]
        /// The node's disk and loops since it started (`Cluster.health`), if it says.
        let disk: Disk?
    }

    /// Journal syncs of 100 ms or more and the longest sync (absent without a journal),
    /// event-loop stalls of 250 ms or more.
    struct Disk: Encodable {
        let slowSyncs: UInt64?
        let longestSyncMs: Double?
        let loopStalls: UInt64?

        init?(_ health: HealthReply?) {
            guard let health, health.journalSlowSyncs != nil || health.loopStalls != nil else { return nil }
            slowSyncs = health.journalSlowSyncs
            longestSyncMs = health.journalLongestSyncMicros.map { Double($0) / 1_000 }
            loopStalls = health.loopStalls
        }

        var text: String {
            var parts: [String] = []
            if let slowSyncs, let longestSyncMs {
                parts.append("\(slowSyncs) syncs ≥100 ms, longest \(String(format: "%.1f", longestSyncMs)) ms")
            }
            if let loopStalls { parts.append("\(loopStalls) loop stalls") }
            return "disk: " + parts.joined(separator: "; ")
        }
    }

    /// One partition as one node sees it: `PartitionStatus` with the role by name.
    struct PartitionView: Encodable {
        let partition: PartitionID
        let replicas: [NodeID]
        let role: String
        let leader: NodeID
        let term: Term
        let commitIndex: LogIndex
        let appliedIndex: LogIndex
        let lastIndex: LogIndex
        let snapshotIndex: LogIndex

        init(_ status: PartitionStatus) {
            (partition, replicas, role, leader) = (status.partition, status.replicas, status.role.description, status.leader)
            (term, commitIndex, appliedIndex) = (status.term, status.commitIndex, status.appliedIndex)
            (lastIndex, snapshotIndex) = (status.lastIndex, status.snapshotIndex)
        }
    }

    /// Where one cart lives (`cluster status --cart`).
    struct CartPlace: Encodable {
        let cart: String
        let partition: UInt32
        let replicas: [UInt64]
        let leader: UInt64?
        let leaderEndpoint: String?

        var text: String {
            let led = leader.map { "led by n\($0)" + (leaderEndpoint.map { " (\($0))" } ?? "") } ?? "no leader known"
            return "cart \(cart): partition p\(partition) on \(replicas.map { "n\($0)" }.joined(separator: ",")), \(led)"
        }
    }

    let partitionCount: UInt32
    /// Partition → the leader most nodes name (absent: none known).
    let leaders: [String: UInt64]
    /// True when every partition has a leader that its own replicas agree on.
    let everyPartitionHasLeader: Bool
    let nodesAnswering: Int
    let nodes: [NodeView]
    /// With `--cart`: that cart's partition, replicas and leader.
    var cart: CartPlace?

    /// Every node answered and every partition has a leader.
    var healthy: Bool { everyPartitionHasLeader && nodesAnswering == nodes.count }

    func place(of cart: CartID, in partition: PartitionID) -> CartPlace {
        let statuses = nodes.flatMap(\.partitions).filter { $0.partition == partition }
        let leader = leaders["\(partition.rawValue)"]
        return CartPlace(cart: cart.rawValue, partition: partition.rawValue,
                         replicas: statuses.first?.replicas.map(\.rawValue) ?? [], leader: leader,
                         leaderEndpoint: leader.flatMap { id in nodes.first { $0.node == id }?.endpoint })
    }

    init(_ statuses: [NodeStatus], health: [Endpoint: HealthReply] = [:]) {
        var count: UInt32 = 0
        var views: [NodeView] = []
        var leaderOf: [PartitionID: NodeID] = [:]
        for status in statuses {
            switch status.result {
            case .success(let reply):
                count = max(count, reply.partitionCount)
                views.append(NodeView(endpoint: status.endpoint.description, node: reply.node.rawValue, error: nil,
                                      partitions: reply.partitions.map(PartitionView.init), disk: Disk(health[status.endpoint])))
                // The leader's own view is authoritative; a follower's view fills in otherwise.
                for partition in reply.partitions where partition.leader != .none {
                    if partition.role == .leader || leaderOf[partition.partition] == nil {
                        leaderOf[partition.partition] = partition.leader
                    }
                }
            case .failure(let error):
                views.append(NodeView(endpoint: status.endpoint.description, node: nil, error: error.message, partitions: [],
                                      disk: nil))
            }
        }
        partitionCount = count
        leaders = Dictionary(uniqueKeysWithValues: leaderOf.map { ("\($0.key.rawValue)", $0.value.rawValue) })
        everyPartitionHasLeader = count > 0 && (0..<count).allSatisfy { leaderOf[PartitionID($0)] != nil }
        nodesAnswering = views.filter { $0.error == nil }.count
        nodes = views
    }
}

struct ClusterStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Partitions, leaders, terms and commit indexes per node.",
        discussion: "Exits 0 when every node answers and every partition has a leader, 4 when a node is down "
            + "or a partition has no leader (elections in progress), 3 when no node answers.")
    @Option(help: "Also show which partition this cart is in, its replicas and its leader.") var cart: String?
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let (statuses, health, partition) = try await global.withClient(anonymous: true) { client in
            let statuses = await client.clusterStatusOfEveryNode()
            let partition = cart.flatMap { client.partitionMap?.partition(of: CartID($0)) }
            return (statuses, await Self.health(of: statuses, client), partition)
        }
        var picture = ClusterPicture(statuses, health: health)
        if let cart, let partition { picture.cart = picture.place(of: CartID(cart), in: partition) }
        if global.json {
            Printer.json(picture)
        } else {
            print(Self.table(statuses, picture))
            if let place = picture.cart { print(place.text) }
        }
        // Exit 3, "could not reach the cluster", and 4, "degraded", with --json too: scripts
        // test the status.
        if picture.nodesAnswering == 0 { throw ExitCode(3) }
        if !picture.healthy { throw ExitCode(4) }
    }

    /// `Cluster.health` of every node that answered the status, asked in parallel; a node
    /// that does not answer it (or predates it) is left out.
    static func health(of statuses: [NodeStatus], _ client: CartClient) async -> [Endpoint: HealthReply] {
        await withTaskGroup(of: (Endpoint, HealthReply?).self) { group in
            for status in statuses where (try? status.result.get()) != nil {
                // A short wait: the status already answered, and a node that stalls now must not
                // hold the whole picture (tools/cluster polls it).
                group.addTask { (status.endpoint, try? await client.health(at: status.endpoint, timeoutMs: 1_000)) }
            }
            var health: [Endpoint: HealthReply] = [:]
            for await (endpoint, reply) in group { health[endpoint] = reply }
            return health
        }
    }

    static func table(_ statuses: [NodeStatus], _ picture: ClusterPicture) -> String {
        var lines: [String] = []
        // One column per node, a node that did not answer included (its cells are "down").
        var byNode: [(header: String, partitions: [PartitionID: ClusterPicture.PartitionView]?)] = []
        for status in statuses {
            switch status.result {
            case .success(let reply):
                let led = reply.partitions.filter { $0.role == .leader }.count
                let disk = picture.nodes.first { $0.endpoint == status.endpoint.description }?.disk
                lines.append("node \(reply.node)  \(status.endpoint)  hosts \(reply.partitions.count)  leads \(led)"
                             + (disk.map { "  \($0.text)" } ?? ""))
                byNode.append(("\(reply.node) term/commit/applied",
                               Dictionary(uniqueKeysWithValues: reply.partitions.map { ($0.partition, ClusterPicture.PartitionView($0)) })))
            case .failure(let error):
                lines.append("node ?   \(status.endpoint)  DOWN: \(error.message)")
                byNode.append(("\(status.endpoint) (down)", nil))
            }
        }
        let ledCount = picture.leaders.count
        lines.append("\(picture.partitionCount) partitions, \(ledCount) with a leader"
                     + (picture.everyPartitionHasLeader ? "" : "  (elections in progress or nodes down)"))
        let nodeColumns = byNode.map(\.header).joined(separator: "  ")
        lines.append("partition  replicas        leader  \(nodeColumns)")
        for index in 0..<picture.partitionCount {
            let partition = PartitionID(index)
            let views = byNode.compactMap { $0.partitions?[partition] }
            let replicas = views.first.map { $0.replicas.map(\.description).joined(separator: ",") } ?? "?"
            let leader = picture.leaders["\(index)"].map { "n\($0)" } ?? "none"
            let cells = byNode.map { column in
                guard let partitions = column.partitions else { return pad("down", column.header.count) }
                let cell = partitions[partition].map { "\($0.term.rawValue)/\($0.commitIndex.rawValue)/\($0.appliedIndex.rawValue)" } ?? "-"
                return pad(cell, column.header.count)
            }
            lines.append("\(pad("p\(index)", 10)) \(pad(replicas, 15)) \(pad(leader, 7)) " + cells.joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
