@testable import CartNode
import CartTestSupport
import CartTypes
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A TCP proxy on 127.0.0.1 that relays bytes to `target` until it is told to black-hole:
/// from then on it keeps every connection open and accepts new ones, but swallows every
/// byte in both directions and never replies, like a host that vanished behind a firewall
/// that drops packets. (A closed port would fail fast; silence is the harder failure.)
/// It can also hold what it reads until released, like a path that stalls for a while.
final class BlackHoleProxy: Sendable {
    let port: Int
    private let server: any Channel
    private let state: NIOLockedValueBox<ProxyState>

    struct ProxyState {
        var target: Int?
        var swallowing = false
        var holding = false
        /// The relays holding bytes, each releasing them on its own loop.
        var held: [@Sendable () -> Void] = []
    }

    private init(server: any Channel, state: NIOLockedValueBox<ProxyState>) {
        self.server = server
        self.state = state
        port = server.localAddress?.port ?? 0
    }

    static func start(on group: any EventLoopGroup) async throws -> BlackHoleProxy {
        let state = NIOLockedValueBox(ProxyState())
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { inbound in
                inbound.eventLoop.makeCompletedFuture {
                    let relay = Relay(state: state)
                    try inbound.pipeline.syncOperations.addHandler(relay)
                    let (target, swallowing) = state.withLockedValue { ($0.target, $0.swallowing) }
                    guard let target, !swallowing else { return }
                    let boundRelay = NIOLoopBound(relay, eventLoop: inbound.eventLoop)
                    ClientBootstrap(group: inbound.eventLoop)
                        .channelInitializer { outbound in
                            outbound.eventLoop.makeCompletedFuture {
                                try outbound.pipeline.syncOperations.addHandler(Relay(state: state, partner: inbound))
                            }
                        }
                        .connect(host: "127.0.0.1", port: target)
                        .whenComplete { result in
                            switch result {
                            case .success(let outbound): boundRelay.value.connected(to: outbound)
                            case .failure: inbound.close(promise: nil)
                            }
                        }
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return BlackHoleProxy(server: server, state: state)
    }

    /// Where new connections are relayed to (set once the target's port is known).
    func relay(to port: Int) { state.withLockedValue { $0.target = port } }

    /// From now on nothing passes, on old or new connections, and nothing is closed.
    func blackHole() { state.withLockedValue { $0.swallowing = true } }

    /// From now on what the proxy reads, in both directions, waits in it until `release`.
    func hold() { state.withLockedValue { $0.holding = true } }

    /// Relays what was held, in order, and relays as before from then on.
    func release() {
        let held = state.withLockedValue { state in
            state.holding = false
            defer { state.held.removeAll() }
            return state.held
        }
        for flush in held { flush() }
    }

    func stop() async { try? await server.close() }

    /// One side of a relayed connection: forwards what it reads to its partner, or drops it
    /// while the proxy swallows. Both sides live on the inbound connection's event loop.
    private final class Relay: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        private let state: NIOLockedValueBox<ProxyState>
        private var partner: (any Channel)?
        private var pending: [ByteBuffer] = []
        private var held: [ByteBuffer] = []

        init(state: NIOLockedValueBox<ProxyState>, partner: (any Channel)? = nil) {
            self.state = state
            self.partner = partner
        }

        func connected(to outbound: any Channel) {
            partner = outbound
            for buffer in pending { outbound.write(buffer, promise: nil) }
            pending.removeAll()
            outbound.flush()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            let loop = context.eventLoop
            let passing = state.withLockedValue { state in
                guard !state.swallowing else { return false }
                guard state.holding else { return true }
                if held.isEmpty { state.held.append { loop.execute { bound.value.releaseHeld() } } }
                held.append(buffer)
                return false
            }
            guard passing else { return }
            // Released bytes go first: their flush is queued on this loop after this read.
            if held.isEmpty { forward(buffer) } else { held.append(buffer) }
        }

        private func releaseHeld() {
            let buffers = held
            held.removeAll()
            for buffer in buffers { forward(buffer) }
        }

        private func forward(_ buffer: ByteBuffer) {
            if let partner {
                partner.writeAndFlush(buffer, promise: nil)
            } else {
                pending.append(buffer)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            partner?.close(promise: nil)
            context.fireChannelInactive()
        }
    }
}

/// The path from one node of a test cluster to another's peer port.
struct PeerPath: Hashable {
    let from: NodeID
    let to: NodeID
}

/// A proxy on every node-to-node path of a test cluster, so a test can black-hole any path.
struct ProxiedPaths {
    let proxies: [PeerPath: BlackHoleProxy]

    static func start(_ ids: [NodeID], on group: any EventLoopGroup) async throws -> ProxiedPaths {
        var proxies: [PeerPath: BlackHoleProxy] = [:]
        for from in ids {
            for to in ids where to != from { proxies[PeerPath(from: from, to: to)] = try await BlackHoleProxy.start(on: group) }
        }
        return ProxiedPaths(proxies: proxies)
    }

    subscript(from: NodeID, to: NodeID) -> BlackHoleProxy { proxies[PeerPath(from: from, to: to)]! }

    /// Points a node's peer addresses at its outgoing proxies (a `TestCluster` tweak).
    func route(_ configuration: inout NodeConfiguration) {
        for index in configuration.members.indices where configuration.members[index].id != configuration.nodeID {
            configuration.members[index].peerAddress = "127.0.0.1:\(self[configuration.nodeID, configuration.members[index].id].port)"
        }
    }

    /// Once the cluster's ports are known: each proxy relays to its destination's peer port.
    func relay(to cluster: TestCluster) {
        for (path, proxy) in proxies { proxy.relay(to: cluster.configurations[Int(path.to.rawValue) - 1].peerPort) }
    }

    func stop() async {
        for proxy in proxies.values { await proxy.stop() }
    }

    /// Runs `body` on a started cluster of `size` nodes whose peer paths each run through a
    /// proxy; stops the cluster, the proxies and their loop afterwards, also when `body` throws.
    static func withCluster(size: Int, partitions: UInt32, logs: CapturedLogs? = nil,
                            tweak: @escaping (inout NodeConfiguration) -> Void = { _ in },
                            _ body: (TestCluster, ProxiedPaths) async throws -> Void) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let proxies = try await start((1...size).map { NodeID(UInt64($0)) }, on: group)
        let cluster = try TestCluster(size: size, partitions: partitions, logs: logs) { configuration in
            tweak(&configuration)
            proxies.route(&configuration)
        }
        proxies.relay(to: cluster)
        do {
            try await cluster.startAll()
            try await cluster.waitForLeaders()
            try await body(cluster, proxies)
        } catch {
            await cluster.shutdown()
            await proxies.stop()
            try? await group.shutdownGracefully()
            throw error
        }
        await cluster.shutdown()
        await proxies.stop()
        try await group.shutdownGracefully()
    }
}
