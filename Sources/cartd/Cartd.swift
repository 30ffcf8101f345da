import ArgumentParser
import CartNode
import CartTypes
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// `cartd`: one SharedCart node. Configuration comes from a JSON file (`--config`) and/or
/// flags (flags win). Prints `listening client=HOST:PORT peer=HOST:PORT` once both ports are
/// bound (port 0 picks free ports), and shuts down gracefully on SIGTERM or SIGINT.
@main
struct Cartd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cartd", abstract: "Runs one SharedCart node.")

    @Option(help: "JSON configuration file (keys as in NodeConfiguration).") var config: String?
    @Option(help: "This node's id (a positive integer).") var node: UInt64?
    @Option(help: "Client listen address host:port (TLS).") var client: String?
    @Option(help: "Peer listen address host:port (mutual TLS).") var peer: String?
    @Option(help: "Port for plain-text /metrics and /health on the client host (0: any free port).") var metricsPort: Int?
    @Option(name: .customLong("member"), help: "A cluster member as id=peerHost:peerPort/clientHost:clientPort; repeat for each (this node included).")
    var members: [String] = []
    @Option(help: "Data directory.") var data: String?
    @Option(help: "Directory with ca.pem and node-<id>.pem/.key (from tools/gen-certs).") var certs: String?
    @Option(help: "Partitions in the cluster.") var partitions: UInt32?
    @Option(help: "Replicas per partition.") var replication: Int?
    @Option(help: "Event loop threads (0: one per core).") var threads: Int?
    @Option(help: "Size of each partition log segment file in MiB (2...1024, default 64).") var segmentMib: Int?
    @Option(help: "Threads that fsync the partition logs, shared by all partitions (0: one per partition).") var syncThreads: Int?
    @Option(help: "Raft tick interval in milliseconds.") var tickMs: Int64?
    @Option(help: "Client port keepalive: silence before a ping, in milliseconds; a connection silent for three intervals is closed (default 2000).")
    var clientKeepaliveMs: Int64?
    @Option(help: "How often this node checks whether to hand a partition's leadership to a less busy replica, in milliseconds (default 2000; 0: never).")
    var leaderBalanceMs: Int64?
    @Option(help: "Fewest applied entries between snapshots (default 100000; a replica's first one comes up to half that later; later ones also wait until the log since the last is as large as it).") var snapshotEntries: UInt64?
    @Option(help: "How long each replica keeps the cart events it applied, so that a watch resumes from further back than a cart's last 64 events, in milliseconds (default 10000; 0: only those 64).")
    var watchResumeWindowMs: Int64?
    @Option(help: "PBKDF2 iterations for new password hashes.") var passwordIterations: Int?
    @Flag(help: "Accept the hello token user:<id> as that user (development only).") var devIdentities = false
    @Option(name: .customLong("admin"), help: "A user who may change the item catalogue (put items, adjust stock); repeat for each.")
    var admins: [String] = []
    @Flag(help: "Skip fsync (unsafe: acknowledged writes can be lost on a crash; experiments only).") var noFsync = false
    @Flag(inversion: .prefixedNo, help: "Make appends durable through one journal per node (default) instead of syncing each partition log.")
    var journal: Bool?
    @Flag(inversion: .prefixedNo, help: "Run the node's threads under SCHED_BATCH (default): a thread that wakes up does not preempt a running one (Linux; see the README for what it gains and costs).")
    var batchScheduling = true
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel: String = "info"

    func run() async throws {
        let configuration = try makeConfiguration()
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "cartd")
        if batchScheduling {
            switch BatchScheduling.apply() {
            case .success(let threads):
                logger.info("threads scheduled SCHED_BATCH: a woken thread waits for the running one", metadata: ["threads": "\(threads)"])
            case .failure(let error):
                logger.warning("cannot schedule the threads SCHED_BATCH; they keep the default policy", metadata: ["error": "\(error)"])
            }
        }
        let node = CartNode(configuration: configuration, logger: logger)
        let watcher = PortAnnouncer(node: node, host: (configuration.clientHost, configuration.peerHost))
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: node), .init(service: watcher)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }

    private func makeConfiguration() throws -> NodeConfiguration {
        var configuration: NodeConfiguration
        if let config {
            configuration = try NodeConfiguration.load(path: config)
        } else {
            guard let node, let data, let certs else {
                throw ValidationError("give --config, or at least --node, --data and --certs")
            }
            configuration = NodeConfiguration(nodeID: NodeID(node), dataDirectory: data,
                                              certificatePath: "\(certs)/node-\(node).pem",
                                              privateKeyPath: "\(certs)/node-\(node).key",
                                              trustedCAPath: "\(certs)/ca.pem")
        }
        if let node { configuration.nodeID = NodeID(node) }
        if let data { configuration.dataDirectory = data }
        if let certs {
            configuration.certificatePath = "\(certs)/node-\(configuration.nodeID.rawValue).pem"
            configuration.privateKeyPath = "\(certs)/node-\(configuration.nodeID.rawValue).key"
            configuration.trustedCAPath = "\(certs)/ca.pem"
        }
        if let client { (configuration.clientHost, configuration.clientPort) = try Self.split(client) }
        if let peer { (configuration.peerHost, configuration.peerPort) = try Self.split(peer) }
        if !members.isEmpty { configuration.members = try members.map(Self.member) }
        if configuration.members.isEmpty {
            configuration.members = [ClusterMember(id: configuration.nodeID,
                                                   peerAddress: "\(configuration.peerHost):\(configuration.peerPort)",
                                                   clientAddress: "\(configuration.clientHost):\(configuration.clientPort)")]
        }
        if let metricsPort { configuration.metricsPort = metricsPort }
        if let partitions { configuration.partitionCount = partitions }
        if let replication { configuration.replicationFactor = replication }
        if let threads { configuration.eventLoopThreads = threads }
        if let syncThreads { configuration.syncThreads = syncThreads }
        if let tickMs { configuration.tickIntervalMs = tickMs }
        if let clientKeepaliveMs { configuration.clientKeepaliveIntervalMs = clientKeepaliveMs }
        if let leaderBalanceMs { configuration.leaderBalanceIntervalMs = leaderBalanceMs }
        if let snapshotEntries { configuration.snapshotIntervalEntries = snapshotEntries }
        if let watchResumeWindowMs { configuration.watchResumeWindowMs = watchResumeWindowMs }
        if let passwordIterations { configuration.passwordHashIterations = passwordIterations }
        if devIdentities { configuration.devIdentities = true }
        if !admins.isEmpty { configuration.admins = admins.map { UserID($0) } }
        if noFsync { configuration.fsync = false }
        if let journal { configuration.storageJournal = journal }
        if let segmentMib { configuration.segmentBytesMax = segmentMib << 20 }
        try configuration.validate()
        return configuration
    }

    static func split(_ address: String) throws -> (String, Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            throw ValidationError("\(address) is not host:port")
        }
        return (String(address[..<colon]), port)
    }

    /// `id=peerHost:peerPort/clientHost:clientPort`
    static func member(_ text: String) throws -> ClusterMember {
        let parts = text.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, let id = UInt64(parts[0]) else { throw ValidationError("member \(text): expected id=peer/client") }
        let addresses = parts[1].split(separator: "/")
        guard addresses.count == 2 else { throw ValidationError("member \(text): expected id=peerHost:port/clientHost:port") }
        _ = try split(String(addresses[0]))
        _ = try split(String(addresses[1]))
        return ClusterMember(id: NodeID(id), peerAddress: String(addresses[0]), clientAddress: String(addresses[1]))
    }
}

/// Prints the bound ports once the node has started, for tools and tests reading stdout.
struct PortAnnouncer: Service {
    let node: CartNode
    let host: (client: String, peer: String)

    func run() async throws {
        for _ in 0..<6_000 {
            if let ports = node.ports {
                // Unbuffered: a tool reading a pipe must see the line at once.
                let metrics = ports.metrics.map { " metrics=\(host.client):\($0)" } ?? ""
                let line = "listening client=\(host.client):\(ports.client) peer=\(host.peer):\(ports.peer)\(metrics)\n"
                FileHandle.standardOutput.write(Data(line.utf8))
                break
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        try? await gracefulShutdown()
    }
}
