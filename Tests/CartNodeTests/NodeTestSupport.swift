import CartAPI
import CartDomain
@testable import CartNode
import CartRPC
import CartStorage
import CartTLS
import CartTestSupport
import CartTypes
import CartWire
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import XCTest


/// A development PKI for up to five nodes, made once per test process by the real
/// `tools/gen-certs` in a temp directory.
enum NodeTestPKI {
    static let shared: Result<URL, any Error> = Result { try makeTestPKI(nodes: 5, prefix: "cartnode-pki") }

    static let clientTLS: Result<TLSContext, any Error> = Result {
        let directory = try shared.get()
        return try TLSContext(configuration: TLSConfiguration(trustedCAPath: directory.appendingPathComponent("ca.pem").path))
    }
}

/// Free TCP ports on 127.0.0.1 (bound and released; good enough on a test machine).
func freePorts(_ count: Int) throws -> [Int] {
    var sockets: [Int32] = []
    defer { for socket in sockets { close(socket) } }
    var ports: [Int] = []
    for _ in 0..<count {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket failed") }
        sockets.append(fd)  // closed by the defer, also when the bind below fails
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                guard bind(fd, raw, length) == 0, getsockname(fd, raw, &length) == 0 else { throw TestFailure("bind failed") }
            }
        }
        ports.append(Int(UInt16(bigEndian: address.sin_port)))
    }
    return ports
}

/// Several `CartNode`s in this process, on 127.0.0.1 with temp data directories.
final class TestCluster: @unchecked Sendable {
    let configurations: [NodeConfiguration]
    private(set) var nodes: [NodeID: CartNode] = [:]
    private var clients: [RPCClient] = []
    let root: URL
    /// When set, every node's warnings and errors land here (tagged `node`) for assertions.
    let logs: CapturedLogs?

    init(size: Int, partitions: UInt32 = 4, snapshotIntervalEntries: UInt64 = 20_000, logs: CapturedLogs? = nil,
         tweak: (inout NodeConfiguration) -> Void = { _ in }) throws {
        self.logs = logs
        let pki = try NodeTestPKI.shared.get()
        root = FileManager.default.temporaryDirectory.appendingPathComponent("cartnode-\(UUID().uuidString)")
        let ports = try freePorts(size * 2)
        let tokenKeys = root.appendingPathComponent("token-keys").path
        let members = (0..<size).map { i in
            ClusterMember(id: NodeID(UInt64(i + 1)), peerAddress: "127.0.0.1:\(ports[2 * i + 1])",
                          clientAddress: "127.0.0.1:\(ports[2 * i])")
        }
        configurations = (0..<size).map { i in
            let id = i + 1
            var configuration = NodeConfiguration(
                nodeID: NodeID(UInt64(id)), dataDirectory: "",
                certificatePath: pki.appendingPathComponent("node-\(id).pem").path,
                privateKeyPath: pki.appendingPathComponent("node-\(id).key").path,
                trustedCAPath: pki.appendingPathComponent("ca.pem").path)
            configuration.clientPort = ports[2 * i]
            configuration.peerPort = ports[2 * i + 1]
            configuration.members = members
            configuration.partitionCount = partitions
            configuration.eventLoopThreads = 2
            configuration.tickIntervalMs = 20
            configuration.electionTimeoutTicks = 10
            configuration.snapshotIntervalEntries = snapshotIntervalEntries
            configuration.devIdentities = true
            configuration.admins = ["alice"]
            configuration.passwordHashIterations = 1_000
            configuration.leaderWaitMs = 5_000
            // One keyring for the cluster, as `tools/cluster` sets up: a token from any node's
            // login works on every node (the first node to start creates it).
            configuration.tokenKeysPath = tokenKeys
            // Leaders stay where elections put them unless a test turns balancing on.
            configuration.leaderBalanceIntervalMs = 0
            tweak(&configuration)
            return configuration
        }
    }

    func configuration(_ id: NodeID) -> NodeConfiguration {
        var configuration = configurations[Int(id.rawValue) - 1]
        configuration.dataDirectory = root.appendingPathComponent("node-\(id.rawValue)").path
        return configuration
    }

    func start(_ id: NodeID) async throws {
        var logger = logs.map { logs in Logger(label: "test") { _ in CapturingLogHandler(logs) } } ?? Logger(label: "test")
        logger.logLevel = .warning
        logger[metadataKey: "node"] = "\(id)"
        let node = CartNode(configuration: configuration(id), logger: logger)
        try await node.start()
        nodes[id] = node
    }

    func startAll() async throws {
        for configuration in configurations { try await start(configuration.nodeID) }
    }

    func stop(_ id: NodeID) async {
        guard let node = nodes.removeValue(forKey: id) else { return }
        await node.shutdown()
    }

    func shutdown() async {
        for client in clients { await client.shutdown() }
        clients.removeAll()
        for id in Array(nodes.keys) { await stop(id) }
        try? FileManager.default.removeItem(at: root)
    }

    /// A client of node `id` acting as `user` (development identity `user:<name>`).
    /// `port`: another way to the node's client port (a proxy).
    func client(_ id: NodeID, as user: UserID?, token: String? = nil, from localHost: String? = nil,
                port: Int? = nil, configure: (inout RPCClientConfiguration) -> Void = { _ in }) throws -> RPCClient {
        let configuration = configurations[Int(id.rawValue) - 1]
        var client = RPCClientConfiguration(port: port ?? configuration.clientPort,
                                            security: .tls(try NodeTestPKI.clientTLS.get(), expectedPeerName: "127.0.0.1"),
                                            identity: "cartnode-tests")
        client.authToken = token ?? user.map { "user:\($0.rawValue)" }
        client.callTimeoutMsDefault = 20_000
        client.connectAttemptsMax = 3
        client.localHost = localHost
        configure(&client)
        let rpc = RPCClient(configuration: client)
        clients.append(rpc)
        return rpc
    }

    /// Waits until every node sees a leader for every partition it hosts, and that leader is
    /// a running node (right after a stop, the others still name the stopped one for a while).
    func waitForLeaders(_ seconds: Double = 20) async throws {
        try await eventually(seconds, "every partition has a running leader") {
            for node in self.nodes.values {
                let statuses = await node.partitionStatuses()
                if statuses.isEmpty || statuses.contains(where: { self.nodes[$0.leader] == nil }) { return false }
            }
            return true
        }
    }

    /// The node currently leading `partition`, as a majority of running nodes see it.
    func leader(of partition: PartitionID) async -> NodeID? {
        for node in nodes.values {
            if let status = await node.partitionStatuses().first(where: { $0.partition == partition }),
               status.role == .leader {
                return status.leader
            }
        }
        return nil
    }

    /// The node leading `partition`, waiting up to `seconds` for one: even right after
    /// `waitForLeaders` a partition can be between two leaders for a moment (a term that
    /// moved on, a leader that stepped down), and `leader(of:)` then answers nil.
    func leader(of partition: PartitionID, within seconds: Double) async throws -> NodeID {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while true {
            if let leader = await leader(of: partition) { return leader }
            guard ContinuousClock.now < deadline else { throw TestFailure("\(partition) has no leader after \(seconds) s") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func node(_ id: NodeID) -> CartNode { nodes[id]! }

    /// A partition with a leader, that leader, its two followers ("front" first, then "third")
    /// and a cart of that partition, created (through the third node) with the item `sku-c`.
    func cartLedElsewhere(named prefix: String) async throws
        -> (partition: PartitionID, leader: NodeID, front: NodeID, third: NodeID, cart: CartID) {
        let statuses = await node(1).partitionStatuses()
        let led = try XCTUnwrap(statuses.first { $0.leader != .none })
        let (partition, leader) = (led.partition, led.leader)
        let others = [NodeID(1), NodeID(2), NodeID(3)].filter { $0 != leader }
        let (front, third) = (others[0], others[1])
        let placement = try XCTUnwrap(node(front).placement)
        let cart = try XCTUnwrap((0..<10_000).lazy.map { CartID("\(prefix)-\($0)") }.first { placement.partition(of: $0) == partition })
        let viaThird = try client(third, as: "alice")
        _ = try await viaThird.call(.itemPut, PutItemRequest(item: "sku-c", name: "sku-c", price: Money(minorUnits: 100),
                                                             initialStock: 1_000_000, request: Keys.next()))
        _ = try await viaThird.call(.cartCreate, CreateCartRequest(cart: cart, request: Keys.next()))
        return (partition, leader, front, third, cart)
    }
}

/// Request keys unique within a test process.
enum Keys {
    private static let counter = NIOLockedValueBox<UInt64>(0)
    static let client = ClientID(UInt64.random(in: 1...UInt64.max / 2))

    static func next() -> RequestKey {
        RequestKey(client: client, request: RequestID(counter.withLockedValue { $0 += 1; return $0 }))
    }
}

/// Reads `count` watch items from `stream` (bounded by `seconds`).
func collect(_ stream: RPCResponseStream<WatchItem>, count: Int, seconds: Double = 20) async throws -> [CartEvent] {
    try await watchEvents(count: count, seconds: seconds) {
        var events: [CartEvent] = []
        for try await item in stream {
            events.append(item.event)
            if events.count == count { break }
        }
        return events
    }
}

/// Reads `count` events of `cart` from `stream`, which watches it from seq 1 through
/// `client`'s node; when the node ends the stream with a retryable error (a replica that had
/// no leader for three election timeouts during a failover), watches again from the last seq
/// received + 1, as `CartClient`'s watch does. Bounded by `seconds` in all.
func collectResuming(_ stream: RPCResponseStream<WatchItem>, client: RPCClient, cart: CartID, count: Int,
                     seconds: Double = 30) async throws -> [CartEvent] {
    try await watchEvents(count: count, seconds: seconds) {
        var events: [CartEvent] = []
        var current = stream
        while true {
            do {
                for try await item in current {
                    events.append(item.event)
                    if events.count == count { return events }
                }
                throw RPCError(.unavailable, "the node ended the watch stream")
            } catch let error as RPCError where error.isRetryable {
                try await Task.sleep(for: .milliseconds(100))
                let next = events.last.map { $0.seq.next } ?? Seq(1)
                current = try await client.stream(.syncWatch, WatchRequest(cart: cart, fromSeq: next))
            }
        }
    }
}

/// The events `read` returns, or a failure once `seconds` have passed without them.
private func watchEvents(count: Int, seconds: Double,
                         _ read: @escaping @Sendable () async throws -> [CartEvent]) async throws -> [CartEvent] {
    try await withThrowingTaskGroup(of: [CartEvent]?.self) { group in
        group.addTask { try await read() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            return nil
        }
        let first = try await group.next()!
        group.cancelAll()
        guard let events = first else { throw TestFailure("watch delivered fewer than \(count) events within \(seconds) s") }
        return events
    }
}

/// A blocking HTTP/1.0 GET on 127.0.0.1 (the metrics port), returning the whole response.
func httpGet(port: Int, path: String) throws -> String {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket failed") }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw TestFailure("connect to \(port) failed") }
    let request = Array("GET \(path) HTTP/1.0\r\n\r\n".utf8)
    guard write(fd, request, request.count) == request.count else { throw TestFailure("write failed") }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    for _ in 0..<1_000 {
        let count = read(fd, &buffer, buffer.count)
        if count <= 0 { break }
        response += buffer[0..<count]
    }
    return String(decoding: response, as: UTF8.self)
}

/// What a node did while its disk stalled: how many partition statuses it reported in ten
/// reads 100 ms apart, its last status of one partition, and the loop stalls it counted.
struct StalledDiskReadings {
    var reports: Int
    var last: PartitionStatus?
    var loopStalls: UInt64
}

/// Reads `node`'s partition statuses ten times, 100 ms apart, while the disk (stalled by the
/// caller: a paused journal, a held compaction) stays stalled, then lets it go with
/// `resume`; after 5 s it resumes whatever the reads do, since a loop blocked on the disk
/// would hold them until then. `resume` may run twice.
func readStatusesWhileStalled(_ cluster: TestCluster, node: NodeID, partition: PartitionID,
                              resuming resume: @escaping @Sendable () -> Void) async throws -> StalledDiskReadings {
    let stallsBefore = cluster.node(node).metrics.value(.loopStalls)
    let safety = Task {
        try? await Task.sleep(for: .seconds(5))
        resume()
    }
    defer { safety.cancel() }
    var readings = StalledDiskReadings(reports: 0, last: nil, loopStalls: 0)
    do {
        for _ in 0..<10 {
            try await Task.sleep(for: .milliseconds(100))
            let statuses = await cluster.node(node).partitionStatuses()
            readings.reports += statuses.count
            readings.last = statuses.first { $0.partition == partition }
        }
    } catch {
        resume()
        throw error
    }
    resume()
    readings.loopStalls = cluster.node(node).metrics.value(.loopStalls) - stallsBefore
    return readings
}
