import CartClient
import CartGateway
import CartTLS
import CartTestSupport
import CartTypes
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A real cluster of `cartd` processes for one test: a temporary directory with its own PKI
/// (tools/gen-certs), cluster secret and data directories, free loopback ports, and every
/// process stopped by pid when the test ends, also when it fails.
///
/// `@unchecked Sendable`: the process table is behind `lock`; the rest is immutable.
final class LocalCluster: @unchecked Sendable {
    /// Longest wait for a node to print its ports, or for the cluster to elect leaders.
    static let startWaitSeconds: Double = 60
    /// Small, so a node that is down for a few hundred writes must catch up by snapshot.
    static let snapshotIntervalEntries = 64
    static let drainWaitSeconds: Double = 10

    let size: Int
    let directory: URL
    let clientPorts: [Int]
    let peerPorts: [Int]
    private let lock = NSLock()
    private var table: [Int: Process] = [:]
    private var processes: [Int: Process] {
        get { lock.withLock { table } }
        set { lock.withLock { table = newValue } }
    }
    let tls: TLSContext
    /// More `cartd` flags every node gets.
    let extraArguments: [String]

    init(nodes: Int = 3, extraArguments: [String] = []) throws {
        size = nodes
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cartcluster-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.extraArguments = extraArguments
        let ports = try FreePorts.reserve(2 * nodes)
        clientPorts = Array(ports[0..<nodes])
        peerPorts = Array(ports[nodes...])
        try Self.run(Self.repositoryRoot.appendingPathComponent("tools/gen-certs").path,
                     ["--out", directory.appendingPathComponent("certs").path, "--nodes", "\(nodes)"])
        _ = try SecretKeyring.createFile(at: directory.appendingPathComponent("token-keys").path)
        tls = try TLSContext(configuration: TLSConfiguration(trustedCAPath: directory.appendingPathComponent("certs/ca.pem").path))
    }

    var secretPath: String { directory.appendingPathComponent("token-keys").path }
    var endpoints: [Endpoint] { clientPorts.map { Endpoint(host: "127.0.0.1", port: $0) } }
    func endpoint(ofNode node: Int) -> Endpoint { endpoints[node - 1] }

    /// Starts node `node` (1-based) and waits until it has bound its ports.
    func start(_ node: Int) throws {
        precondition(processes[node] == nil, "node \(node) is already running")
        let data = directory.appendingPathComponent("node-\(node)")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let keys = data.appendingPathComponent("token-keys").path
        if !FileManager.default.fileExists(atPath: keys) { try FileManager.default.copyItem(atPath: secretPath, toPath: keys) }
        var arguments = ["--node", "\(node)", "--client", "127.0.0.1:\(clientPorts[node - 1])",
                         "--peer", "127.0.0.1:\(peerPorts[node - 1])", "--data", data.path,
                         "--certs", directory.appendingPathComponent("certs").path,
                         "--password-iterations", "1000", "--snapshot-entries", "\(Self.snapshotIntervalEntries)",
                         "--admin", "alice", "--log-level", "info",
                         // The scenarios pick a partition's leader to kill: leaders stay put.
                         "--leader-balance-ms", "0"]
        arguments += extraArguments
        for member in 1...size {
            arguments += ["--member", "\(member)=127.0.0.1:\(peerPorts[member - 1])/127.0.0.1:\(clientPorts[member - 1])"]
        }
        let process = Process()
        process.executableURL = Self.cartdBinary
        process.arguments = arguments
        let stdoutPath = data.appendingPathComponent("stdout").path
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: data.appendingPathComponent("log").path, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: data.appendingPathComponent("log").path)
        try process.run()
        processes[node] = process
        try waitForListening(stdoutPath, node: node)
    }

    /// The process id of running node `node`, or nil.
    func pid(of node: Int) -> Int32? { processes[node]?.processIdentifier }

    func startAll() throws {
        for node in 1...size { try start(node) }
    }

    /// `kill -9`: no drain, no flush; what a crash looks like to the others.
    func kill(_ node: Int) {
        guard let process = lock.withLock({ table.removeValue(forKey: node) }) else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        Self.waitForExit(process)
    }

    /// Bounded: a process that will not go away fails the test later rather than hanging it.
    static func waitForExit(_ process: Process, seconds: Double = drainWaitSeconds) {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    }

    /// `kill -STOP`: the process hangs with its sockets open, as a frozen machine or a
    /// network that drops everything looks to the others. `resume` continues it; `stopAll`
    /// kills it either way.
    func pause(_ node: Int) {
        guard let process = lock.withLock({ table[node] }) else { return }
        Glibc.kill(process.processIdentifier, SIGSTOP)
    }

    func resume(_ node: Int) {
        guard let process = lock.withLock({ table[node] }) else { return }
        Glibc.kill(process.processIdentifier, SIGCONT)
    }

    /// SIGTERM, then SIGKILL if the node has not drained within `drainWaitSeconds`.
    func stop(_ node: Int) {
        guard let process = lock.withLock({ table.removeValue(forKey: node) }) else { return }
        Glibc.kill(process.processIdentifier, SIGTERM)
        Self.waitForExit(process)
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        Self.waitForExit(process)
    }

    func stopAll() {
        for node in Array(processes.keys) { kill(node) }
        try? FileManager.default.removeItem(at: directory)
    }

    /// The last `lines` lines of every node's log (warnings and worse), for a failed test's output.
    func logTails(lines: Int = 80) -> String {
        (1...size).map { node in
            let path = directory.appendingPathComponent("node-\(node)/log").path
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "(no log)"
            let tail = text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
            return "--- node \(node) log (last \(lines) lines) ---\n\(tail)"
        }.joined(separator: "\n")
    }

    var running: [Int] { processes.keys.sorted() }

    // MARK: Clients

    /// A token for `user` minted from the cluster secret, as an operator would.
    func token(for user: String) throws -> String {
        try AdminTokenMinter.mint(secretFile: secretPath, user: UserID(user),
                                  now: UnixMillis(UInt64(Date().timeIntervalSince1970 * 1_000)))
    }

    /// A client acting as `user` (nil: anonymous); `pinnedTo` sends every request to that
    /// node only, so the node has to forward it.
    func client(as user: String?, pinnedTo node: Int? = nil,
                configure: (inout CartClientConfiguration) -> Void = { _ in }) throws -> CartClient {
        var configuration = CartClientConfiguration(endpoints: node.map { [endpoint(ofNode: $0)] } ?? endpoints, tls: tls,
                                                    authToken: try user.map(token(for:)), identity: "cluster-test")
        configuration.followLeaders = node == nil
        configuration.operationTimeoutMs = 30_000
        configure(&configuration)
        return CartClient(configuration: configuration)
    }

    /// Waits until every partition has a leader that the running nodes agree on; returns
    /// partition → leader node number.
    @discardableResult
    func waitForLeaders(excluding down: Set<Int> = [], timeoutSeconds: Double = startWaitSeconds) async throws -> [PartitionID: Int] {
        let client = try client(as: nil)
        defer { Task { await client.shutdown() } }
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if let leaders = try? await agreedLeaders(client, down: down) { return leaders }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ClusterTestError("no leader in every partition after \(timeoutSeconds) s")
    }

    private func agreedLeaders(_ client: CartClient, down: Set<Int>) async throws -> [PartitionID: Int]? {
        var leaders: [PartitionID: Int] = [:]
        var count: UInt32 = 0
        for node in running where !down.contains(node) {
            let status = try await client.clusterStatus(at: endpoint(ofNode: node))
            count = status.partitionCount
            for partition in status.partitions {
                let leader = Int(partition.leader.rawValue)
                guard leader != 0, running.contains(leader), !down.contains(leader) else { return nil }
                if let known = leaders[partition.partition], known != leader { return nil }
                leaders[partition.partition] = leader
            }
        }
        return leaders.count == Int(count) && count > 0 ? leaders : nil
    }

    // MARK: Process plumbing

    /// Polls the node's stdout for its "listening" line, bounded by `startWaitSeconds`.
    private func waitForListening(_ path: String, node: Int) throws {
        let deadline = Date().addingTimeInterval(Self.startWaitSeconds)
        while Date() < deadline {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            if text.contains("listening client=") { return }
            guard processes[node]?.isRunning == true else { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let log = (try? String(contentsOfFile: directory.appendingPathComponent("node-\(node)/log").path, encoding: .utf8)) ?? ""
        throw ClusterTestError("node \(node) did not start; its log: \(log.suffix(2_000))")
    }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `CARTD` from the environment, else `cartd` of the same build as the tests.
    static var cartdBinary: URL {
        if let path = ProcessInfo.processInfo.environment["CARTD"] { return URL(fileURLWithPath: path) }
        return builtExecutable("cartd")
    }

    static func run(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        waitForExit(process, seconds: 60)
        guard !process.isRunning, process.terminationStatus == 0 else { throw ClusterTestError("\(executable) exited with \(process.terminationStatus)") }
    }
}

struct ClusterTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Free loopback ports: bound to port 0 and released, for nodes that must know each other's
/// addresses before they start.
enum FreePorts {
    static func reserve(_ count: Int) throws -> [Int] {
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        var ports: [Int] = []
        for _ in 0..<count {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw ClusterTestError("socket() failed") }
            sockets.append(fd)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
            }
            guard bound == 0 else { throw ClusterTestError("bind() failed") }
            let named = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            guard named == 0 else { throw ClusterTestError("getsockname() failed") }
            ports.append(Int(UInt16(bigEndian: address.sin_port)))
        }
        return ports
    }
}
