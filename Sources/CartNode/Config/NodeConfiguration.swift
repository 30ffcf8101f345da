import CartTypes
import Foundation

/// Another (or this) cluster member: its id and where to reach it.
public struct ClusterMember: Codable, Hashable, Sendable {
    public var id: NodeID
    /// `host:port` of the member's peer listener (mutual TLS, node-to-node).
    public var peerAddress: String
    /// `host:port` of the member's client listener (for leader hints).
    public var clientAddress: String

    public init(id: NodeID, peerAddress: String, clientAddress: String) {
        self.id = id
        self.peerAddress = peerAddress
        self.clientAddress = clientAddress
    }
}

/// Everything one `cartd` needs to start. Loadable from a JSON file (keys as the property
/// names below) and overridable by flags; every limit carries its unit.
public struct NodeConfiguration: Codable, Hashable, Sendable {
    public var nodeID: NodeID
    /// Client listener (TLS, server certificate only). Port 0 picks a free port.
    public var clientHost: String = "127.0.0.1"
    public var clientPort: Int = 7401
    /// Peer listener (mutual TLS with the cluster CA). Port 0 picks a free port.
    public var peerHost: String = "127.0.0.1"
    public var peerPort: Int = 7501
    /// Plain-text `/metrics` and `/health`; nil: off.
    public var metricsPort: Int? = nil
    /// Every member of the cluster, this node included, sorted or not (placement sorts by id).
    public var members: [ClusterMember] = []
    /// Where partition logs, hard state and snapshots live (one folder per partition).
    public var dataDirectory: String
    public var certificatePath: String
    public var privateKeyPath: String
    public var trustedCAPath: String

    public var partitionCount: UInt32 = 16
    public var replicationFactor: Int = 3
    /// Event loop threads serving connections and partitions (0: one per core).
    public var eventLoopThreads: Int = 0
    /// Threads that `fdatasync` the partition logs, shared by all of this node's partitions
    /// (0: a thread per partition log). A few shared threads cost fewer wake-ups per sync and
    /// let appends of a busy moment share syncs; see Sources/CartNode/README.md.
    public var syncThreads: Int = 2
    public var tickIntervalMs: Int64 = 50
    public var electionTimeoutTicks: Int = 10
    public var heartbeatIntervalTicks: Int = 1
    /// A domain snapshot is taken (and the log compacted) every this many applied entries
    /// (etcd's default count too). A partition's snapshot holds its dedup window (30 s of
    /// request outcomes: ~2.3 MB at 15,000 writes/s over 16 partitions); at 20,000 entries
    /// the snapshots of all partitions cost ~10 % of a busy node's throughput, at 100,000
    /// about a fifth of that, for a longer log on disk (~25 MB per partition) and a longer
    /// replay after a restart.
    public var snapshotIntervalEntries: UInt64 = 100_000
    /// The largest piece of a snapshot sent to a follower in one `Peer.snapshot` call (a
    /// snapshot of any size goes in pieces; see Sources/CartNode/README.md).
    public var snapshotChunkBytes: Int = 1 << 20
    /// The longest snapshot this node accepts from a leader, and the most bytes the snapshots
    /// it is receiving at once may add up to (memory held until each is installed).
    public var snapshotTransferBytesMax: UInt64 = 1 << 30
    /// Events buffered per watcher before it falls back to re-reading history.
    public var watchBufferEventsMax: Int = 4_096
    /// How long each replica keeps the cart events it applied, so that a watch resumes from
    /// further back than a cart's retained history (its last 64 events) — a watcher whose node
    /// hung, or who fell behind a busy cart. 0: only the retained history.
    public var watchResumeWindowMs: Int64 = 10_000
    /// The most events a replica keeps for `watchResumeWindowMs` (memory: ~200 bytes each).
    public var watchResumeEventsMax: Int = 50_000
    /// Stream items a client may be sent before it grants more credit (client port).
    public var streamCreditInitial: UInt32 = 64
    /// Client port: silence after which either side pings; a connection silent for three
    /// intervals is closed. Also how soon a client finds a node that hangs (stopped, not
    /// crashed: its connections stay open) and watches or calls elsewhere: about 3 intervals.
    public var clientKeepaliveIntervalMs: Int64 = 2_000
    /// How often a node checks whether it leads two partitions more than a replica it shares
    /// one with, and if so hands one over (`LeaderBalance`). 0: never.
    public var leaderBalanceIntervalMs: Int64 = 2_000
    /// How long a request waits for a partition leader to be known (elections) before it
    /// fails with a retryable `notLeader`.
    public var leaderWaitMs: Int64 = 3_000
    /// How long a peer may be silent before this node stops counting on it, and the longest a
    /// call for a partition hosted here waits for a leader (`Router`, `PeerContact`). nil:
    /// two election timeouts. At least one election timeout: a shorter window would give
    /// up on partitions in the middle of an ordinary election.
    public var contactWindowMs: Int64? = nil

    /// The contact window in force: `contactWindowMs`, or two election timeouts.
    public var effectiveContactWindowMs: Int64 {
        contactWindowMs ?? 2 * electionTimeoutMs
    }

    var electionTimeoutMs: Int64 { Int64(electionTimeoutTicks) * tickIntervalMs }
    /// How long one checkout saga step keeps retrying across leader changes and lost links
    /// before the saga gives up (the checkout then waits for the next sweep).
    public var sagaStepRetryWindowMs: Int64 = 30_000
    /// How often a partition's leader looks for unsettled checkouts that no saga of this node
    /// is running, and resumes them.
    public var checkoutSweepIntervalMs: Int64 = 5_000
    /// Accept the hello token `user:<id>` as that user without a password (tests, local use).
    public var devIdentities: Bool = false
    /// Users who may change the item catalogue (put items, adjust stock). Every node of a
    /// cluster should name the same ones. Empty: nobody may.
    public var admins: [UserID] = []
    /// Secret keyring for login tokens; created with a fresh key if missing. nil:
    /// `<dataDirectory>/token-keys`.
    public var tokenKeysPath: String? = nil
    /// PBKDF2 iterations for new password hashes.
    public var passwordHashIterations: Int = 600_000
    /// Token bucket per user and node: sustained requests/s and burst. A person never comes
    /// near it; one user's flood gets `resourceExhausted` (with a retry-after) beyond it, so
    /// it can take no more than about half of a small cluster's capacity from everyone else.
    public var userRateLimitPerSecond: UInt64 = 2_000
    public var userRateLimitBurst: UInt64 = 4_000
    /// Token bucket for the whole node.
    public var nodeRateLimitPerSecond: UInt64 = 500_000
    public var nodeRateLimitBurst: UInt64 = 1_000_000
    /// Fsync before acknowledging (turning this off is unsafe and for experiments only).
    public var fsync: Bool = true
    /// Make appends durable through one node-wide journal (`<data>/journal/`, one
    /// `fdatasync` for the appends of every partition at a moment) instead of syncing each
    /// partition log's own files; see Sources/CartStorage/README.md.
    public var storageJournal: Bool = true
    /// Size of each partition log's segment files (preallocated; a full one is sealed and the
    /// next one started off the event loop). Smaller segments mean more rolls and less disk
    /// reserved per partition; every one must hold the largest entry (1 MiB).
    public var segmentBytesMax: Int = 64 << 20
    static let segmentBytesRange = (2 << 20)...(1 << 30)

    public init(nodeID: NodeID, dataDirectory: String, certificatePath: String, privateKeyPath: String,
                trustedCAPath: String) {
        self.nodeID = nodeID
        self.dataDirectory = dataDirectory
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
        self.trustedCAPath = trustedCAPath
    }

    /// Reads a JSON configuration file. Missing optional keys keep their defaults.
    public static func load(path: String) throws(NodeError) -> NodeConfiguration {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw NodeError(.configuration, "cannot read \(path): \(error.localizedDescription)")
        }
        do {
            return try JSONDecoder().decode(NodeConfiguration.self, from: data)
        } catch {
            throw NodeError(.configuration, "\(path) is not a valid configuration: \(error)")
        }
    }

    /// Checks what a bad file or flag could get wrong; a typed error at start, not a crash later.
    public func validate() throws(NodeError) {
        guard nodeID != .none else { throw NodeError(.configuration, "nodeID must be positive") }
        guard partitionCount > 0, partitionCount <= PartitionMap.partitionCountMax else {
            throw NodeError(.configuration, "partitionCount must be in 1...\(PartitionMap.partitionCountMax)")
        }
        guard replicationFactor >= 1 else { throw NodeError(.configuration, "replicationFactor must be positive") }
        guard members.contains(where: { $0.id == nodeID }) else {
            throw NodeError(.configuration, "members must include this node (\(nodeID))")
        }
        guard Set(members.map(\.id)).count == members.count else {
            throw NodeError(.configuration, "member ids must be unique")
        }
        guard tickIntervalMs > 0, electionTimeoutTicks > heartbeatIntervalTicks, heartbeatIntervalTicks > 0 else {
            throw NodeError(.configuration, "tickIntervalMs must be positive and electionTimeoutTicks > heartbeatIntervalTicks > 0")
        }
        guard eventLoopThreads >= 0, (0...64).contains(syncThreads) else {
            throw NodeError(.configuration, "eventLoopThreads must not be negative and syncThreads must be in 0...64")
        }
        guard sagaStepRetryWindowMs > 0, checkoutSweepIntervalMs > 0 else {
            throw NodeError(.configuration, "sagaStepRetryWindowMs and checkoutSweepIntervalMs must be positive")
        }
        guard (Self.snapshotChunkBytesRange).contains(snapshotChunkBytes), snapshotTransferBytesMax > 0 else {
            throw NodeError(.configuration, "snapshotChunkBytes must be in \(Self.snapshotChunkBytesRange) and snapshotTransferBytesMax positive")
        }
        guard Self.segmentBytesRange.contains(segmentBytesMax) else {
            throw NodeError(.configuration, "segmentBytesMax must be in \(Self.segmentBytesRange)")
        }
        if let contactWindowMs, contactWindowMs < electionTimeoutMs {
            throw NodeError(.configuration, "contactWindowMs (\(contactWindowMs)) must be at least an election timeout "
                            + "(\(electionTimeoutMs) ms)")
        }
        guard snapshotIntervalEntries > 0, watchBufferEventsMax > 0, leaderWaitMs >= 0 else {
            throw NodeError(.configuration, "snapshotIntervalEntries and watchBufferEventsMax must be positive")
        }
        guard watchResumeWindowMs >= 0, watchResumeEventsMax >= 0 else {
            throw NodeError(.configuration, "watchResumeWindowMs and watchResumeEventsMax must not be negative")
        }
        guard clientKeepaliveIntervalMs > 0, leaderBalanceIntervalMs >= 0 else {
            throw NodeError(.configuration, "clientKeepaliveIntervalMs must be positive and leaderBalanceIntervalMs not negative")
        }
        for admin in admins where admin.rawValue.isEmpty || admin.rawValue.utf8.count > UserID.bytesMax {
            throw NodeError(.configuration, "admin names must be 1...\(UserID.bytesMax) bytes: '\(admin)'")
        }
    }

    var member: ClusterMember { members.first { $0.id == nodeID }! }

    /// A piece must leave room for its message in a peer frame (16 MiB).
    static let snapshotChunkBytesRange = 1...(8 << 20)
}

extension NodeConfiguration {
    enum CodingKeys: String, CodingKey {
        case nodeID, dataDirectory, certificatePath, privateKeyPath, trustedCAPath, clientHost, clientPort, peerHost, peerPort, metricsPort, members, partitionCount, replicationFactor, eventLoopThreads, syncThreads, tickIntervalMs, electionTimeoutTicks, heartbeatIntervalTicks, snapshotIntervalEntries, snapshotChunkBytes, snapshotTransferBytesMax, watchBufferEventsMax, watchResumeWindowMs, watchResumeEventsMax, streamCreditInitial, clientKeepaliveIntervalMs, leaderBalanceIntervalMs, leaderWaitMs, contactWindowMs, sagaStepRetryWindowMs, checkoutSweepIntervalMs, devIdentities, admins, tokenKeysPath, passwordHashIterations, userRateLimitPerSecond, userRateLimitBurst, nodeRateLimitPerSecond, nodeRateLimitBurst, fsync, storageJournal, segmentBytesMax
    }

    /// Required: node id, data directory and the three TLS paths; every other key is
    /// optional and keeps its default when absent.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(nodeID: try container.decode(NodeID.self, forKey: .nodeID),
                  dataDirectory: try container.decode(String.self, forKey: .dataDirectory),
                  certificatePath: try container.decode(String.self, forKey: .certificatePath),
                  privateKeyPath: try container.decode(String.self, forKey: .privateKeyPath),
                  trustedCAPath: try container.decode(String.self, forKey: .trustedCAPath))
        if let value = try container.decodeIfPresent(String.self, forKey: .clientHost) { clientHost = value }
        if let value = try container.decodeIfPresent(Int.self, forKey: .clientPort) { clientPort = value }
        if let value = try container.decodeIfPresent(String.self, forKey: .peerHost) { peerHost = value }
        if let value = try container.decodeIfPresent(Int.self, forKey: .peerPort) { peerPort = value }
        if let value = try container.decodeIfPresent(Int.self, forKey: .metricsPort) { metricsPort = value }
        if let value = try container.decodeIfPresent([ClusterMember].self, forKey: .members) { members = value }
        if let value = try container.decodeIfPresent(UInt32.self, forKey: .partitionCount) { partitionCount = value }
        if let value = try container.decodeIfPresent(Int.self, forKey: .replicationFactor) { replicationFactor = value }
        if let value = try container.decodeIfPresent(Int.self, forKey: .eventLoopThreads) { eventLoopThreads = value }
        if let value = try container.decodeIfPresent(Int.self, forKey: .syncThreads) { syncThreads = value }
        if let value = try container.decodeIfPresent(Int64.self, forKey: .tickIntervalMs) { tickIntervalMs = value }
        if let value = try container.decodeIfPresent(Int.self, forKey: .electionTimeoutTicks) { electionTimeoutTicks = value }
        if let value = try container.decodeIfPresent(Int.self, forKey: .heartbeatIntervalTicks) { heartbeatIntervalTicks = value }
        if let value = try container.decodeIfPresent(UInt64.self, forKey: .snapshotIntervalEntries) { snapshotIntervalEntries = value }
        if let value = try container.decodeIfPresent(Int.self, forKey: .snapshotChunkBytes) { snapshotChunkBytes = value }
        if let value = try container.decodeIfPresent(UInt64.self, forKey: .snapshotTransferBytesMax) { snapshotTransferBytesMax = value }
        if let value = try container.decodeIfPresent(Int.self, forKey: .watchBufferEventsMax) { watchBufferEventsMax = value }
        if let value = try container.decodeIfPresent(Int64.self, forKey: .watchResumeWindowMs) { watchResumeWindowMs = value }
        if let value = try container.decodeIfPresent(Int.self, forKey: .watchResumeEventsMax) { watchResumeEventsMax = value }
        if let value = try container.decodeIfPresent(UInt32.self, forKey: .streamCreditInitial) { streamCreditInitial = value }
        if let value = try container.decodeIfPresent(Int64.self, forKey: .clientKeepaliveIntervalMs) { clientKeepaliveIntervalMs = value }
        if let value = try container.decodeIfPresent(Int64.self, forKey: .leaderBalanceIntervalMs) { leaderBalanceIntervalMs = value }
        if let value = try container.decodeIfPresent(Int64.self, forKey: .leaderWaitMs) { leaderWaitMs = value }
        contactWindowMs = try container.decodeIfPresent(Int64.self, forKey: .contactWindowMs)
        if let value = try container.decodeIfPresent(Int64.self, forKey: .sagaStepRetryWindowMs) { sagaStepRetryWindowMs = value }
        if let value = try container.decodeIfPresent(Int64.self, forKey: .checkoutSweepIntervalMs) { checkoutSweepIntervalMs = value }
        if let value = try container.decodeIfPresent(Bool.self, forKey: .devIdentities) { devIdentities = value }
        if let value = try container.decodeIfPresent([String].self, forKey: .admins) { admins = value.map { UserID($0) } }
        if let value = try container.decodeIfPresent(String.self, forKey: .tokenKeysPath) { tokenKeysPath = value }
        if let value = try container.decodeIfPresent(Int.self, forKey: .passwordHashIterations) { passwordHashIterations = value }
        if let value = try container.decodeIfPresent(UInt64.self, forKey: .userRateLimitPerSecond) { userRateLimitPerSecond = value }
        if let value = try container.decodeIfPresent(UInt64.self, forKey: .userRateLimitBurst) { userRateLimitBurst = value }
        if let value = try container.decodeIfPresent(UInt64.self, forKey: .nodeRateLimitPerSecond) { nodeRateLimitPerSecond = value }
        if let value = try container.decodeIfPresent(UInt64.self, forKey: .nodeRateLimitBurst) { nodeRateLimitBurst = value }
        if let value = try container.decodeIfPresent(Bool.self, forKey: .fsync) { fsync = value }
        if let value = try container.decodeIfPresent(Bool.self, forKey: .storageJournal) { storageJournal = value }
        if let value = try container.decodeIfPresent(Int.self, forKey: .segmentBytesMax) { segmentBytesMax = value }
    }
}
