import CartAPI
import CartDomain
import CartGateway
import CartRaft
import CartRPC
import CartStorage
import CartTLS
import CartTypes
import CartWire
import Dispatch
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// One SharedCart node: its partition replicas (Raft + storage + domain state), the peer
/// transport and peer server (mutual TLS), and the client server (TLS) with the gateway and
/// the cart, item, user, sync and cluster services.
///
/// `start()` opens storage (recovering from disk), binds both ports and starts the
/// replicas; `shutdown()` hands its leaderships over, drains clients (go-away, in-flight calls
/// finish), stops the replicas, closes peer links, waits for its sagas and routed calls to
/// end, and flushes and closes the logs. As a swift-service-lifecycle
/// `Service`, `run()` does both around a graceful-shutdown signal.
public final class CartNode: Service, Sendable {
    public struct BoundPorts: Sendable, Hashable {
        public var client: Int
        public var peer: Int
        /// The plain-text metrics and health port, if configured.
        public var metrics: Int?
    }

    public let configuration: NodeConfiguration
    let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    /// The threads that sync every partition log of this node (nil: one per log).
    private let syncWorkers: SyncWorkers?
    private let threadPool: NIOThreadPool
    private let running = NIOLockedValueBox<Running?>(nil)
    let metrics = NodeMetrics()

    private struct Running: Sendable {
        var clientServer: RPCServer
        var peerServer: RPCServer
        var transport: PeerTransport
        var replicas: [PartitionID: PartitionReplica]
        var services: NodeServices
        var metricsServer: MetricsServer?
        var ports: BoundPorts
        var journal: NodeJournal?
        /// Drops snapshot transfers whose sender went quiet (`SnapshotAssembler`).
        var snapshotTransferSweep: RepeatedTask
        /// Rounds of leader balancing (`NodeServices.balanceLeaders`), unless turned off.
        var leaderBalancing: RepeatedTask?
        /// One `LoopStallProbe` per event loop.
        var stallProbes: [RepeatedTask]
    }

    /// How often unfinished snapshot transfers are checked for idleness.
    static let snapshotTransferSweepInterval = TimeAmount.seconds(10)
    /// How long the shutdown waits for cancelled checkout sagas to end (they end at their next
    /// step; a step waits at most on a forwarded call, which the closed links fail).
    static let sagaRunsWaitMs: Int64 = 5_000
    /// How long the shutdown waits for routed calls' retries after the router closed (each
    /// ends at its next attempt, a retry pause away, or when its link closes).
    static let routedRetriesWaitMs: Int64 = 2_000

    public init(configuration: NodeConfiguration, logger: Logger = Logger(label: "cartd")) {
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "node"] = "\(configuration.nodeID)"
        self.logger = logger
        let threads = configuration.eventLoopThreads > 0 ? configuration.eventLoopThreads : System.coreCount
        group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        threadPool = NIOThreadPool(numberOfThreads: 2)
        syncWorkers = configuration.syncThreads > 0 ? SyncWorkers(threads: configuration.syncThreads) : nil
    }

    /// The bound ports once started.
    public var ports: BoundPorts? { running.withLockedValue { $0?.ports } }

    // MARK: Service

    public func run() async throws {
        try await start()
        try? await gracefulShutdown()
        await shutdown()
    }

    // MARK: Start

    @discardableResult
    public func start() async throws -> BoundPorts {
        try configuration.validate()
        threadPool.start()
        let peerTLS = try Self.tlsContext(.mutualTLS(certificateChainPath: configuration.certificatePath,
                                                     privateKeyPath: configuration.privateKeyPath,
                                                     trustedCAPath: configuration.trustedCAPath))
        let clientTLS = try Self.tlsContext(TLSConfiguration(certificateChainPath: configuration.certificatePath,
                                                             privateKeyPath: configuration.privateKeyPath,
                                                             trustedCAPath: configuration.trustedCAPath))
        let tokens = TokenService(keyring: try loadKeyring(), devIdentities: configuration.devIdentities)
        let gateway = try ClientGateway(tokens: tokens, configuration: configuration)

        let placement = Placement(partitionCount: configuration.partitionCount, nodes: configuration.members.map(\.id),
                                  replicationFactor: configuration.replicationFactor)
        let transport = PeerTransport(node: configuration.nodeID, members: configuration.members, tls: peerTLS,
                                      eventLoopGroup: group, metrics: metrics,
                                      snapshotChunkBytes: configuration.snapshotChunkBytes, logger: logger)
        let leaders = LeaderTable(partitionCount: configuration.partitionCount)
        let contact = PeerContact(peers: configuration.members.map(\.id).filter { $0 != configuration.nodeID })
        let items = ItemCache()
        let servicesBox = NIOLockedValueBox<NodeServices?>(nil)
        let hooks = ReplicaHooks(
            leaderChanged: { partition, leader in leaders.set(leader, for: partition) },
            leading: { replica in
                guard let services = servicesBox.withLockedValue({ $0 }) else { return }
                services.resumeCheckouts(replica)
                services.resendPendingLinks(replica)
            },
            itemChanged: { item in items.update(item) })
        let journal = try openJournal()
        let replicas: [PartitionID: PartitionReplica]
        do {
            replicas = try openReplicas(placement: placement, transport: transport, hooks: hooks, journal: journal)
        } catch {
            journal?.close()
            throw error
        }

        let peerServer = makePeerServer(tls: peerTLS)
        let peerPort = try await Self.listen(peerServer, "peer")
        let clientServer = makeClientServer(tls: clientTLS, gateway: gateway)
        let clientPort = try await Self.listen(clientServer, "client")
        let selfHint = LeaderHint(nodeID: configuration.nodeID, address: "\(configuration.clientHost):\(clientPort)")

        let guards = try PeerGuard(logger: logger)
        transport.listen(PeerLink.Listener(
            // The peer answers again: stop failing calls to it fast, probe it.
            connected: { peer in guards.peerAnswers(peer) },
            // A peer whose connection closes may have died: the partitions it led elect at once.
            lost: { peer in
                for replica in replicas.values { replica.loop.execute { replica.leaderGone(peer) } }
            }))
        let router = Router(node: configuration.nodeID, placement: placement, replicas: replicas, leaders: leaders,
                            transport: transport,
                            leaderWaitMs: configuration.leaderWaitMs, contact: contact,
                            contactWindowMs: configuration.effectiveContactWindowMs,
                            guards: guards, metrics: metrics,
                            clientAddresses: Dictionary(uniqueKeysWithValues: configuration.members.map { ($0.id, $0.clientAddress) }))
        let services = NodeServices(eventLoopGroup: group, node: configuration.nodeID, placement: placement, router: router,
                                    items: items, selfHint: selfHint, members: configuration.members,
                                    configuration: configuration, threadPool: threadPool, tokens: tokens, metrics: metrics,
                                    journal: journal, logger: logger)
        servicesBox.withLockedValue { $0 = services }
        let table = services.makeMethodTable { principal in gateway.admit(principal) }
        for register in table.clientMethods { register(clientServer) }
        services.registerSyncService(on: clientServer)
        let assembler = registerPeerMethods(on: peerServer, table: table, replicas: replicas, contact: contact)
        // Both ports were bound without accepting (the services need the client port): a
        // peer that connected before its methods were registered would have had its Raft
        // batches refused, unanswered, for the life of its connection.
        try await Self.accept(peerServer, "peer")
        try await Self.accept(clientServer, "client")
        let snapshotTransferSweep = group.next().scheduleRepeatedTask(
            initialDelay: Self.snapshotTransferSweepInterval, delay: Self.snapshotTransferSweepInterval) { _ in
            assembler.dropIdleTransfers()
        }
        let stallProbes = group.makeIterator().map { LoopStallProbe.start(on: $0, metrics: metrics, logger: logger) }

        var metricsServer: MetricsServer?
        if let port = configuration.metricsPort {
            do {
                metricsServer = try await MetricsServer.start(host: configuration.clientHost, port: port, group: group) { [self] path in
                    await metricsPage(path, services: services, gateway: gateway)
                }
            } catch {
                throw NodeError(.listen, "metrics port: \(error)")
            }
        }
        let ports = BoundPorts(client: clientPort, peer: peerPort, metrics: metricsServer?.port)
        running.withLockedValue {
            $0 = Running(clientServer: clientServer, peerServer: peerServer, transport: transport, replicas: replicas,
                         services: services, metricsServer: metricsServer, ports: ports, journal: journal,
                         snapshotTransferSweep: snapshotTransferSweep, stallProbes: stallProbes)
        }
        let tick = TimeAmount.milliseconds(configuration.tickIntervalMs)
        for replica in replicas.values {
            try await replica.loop.submit { replica.start(tickInterval: tick) }.get()
        }
        if configuration.leaderBalanceIntervalMs > 0 {
            // Each node starts at its own phase, so that the nodes do not all plan from the
            // same (stale) view at once and hand partitions to the same quiet node.
            let intervalMs = configuration.leaderBalanceIntervalMs
            let balancing = group.next().scheduleRepeatedTask(
                initialDelay: .milliseconds(intervalMs + Int64.random(in: 0...intervalMs)), delay: .milliseconds(intervalMs)) { _ in
                services.balanceLeaders()
            }
            let stillRunning = running.withLockedValue { running -> Bool in
                running?.leaderBalancing = balancing
                return running != nil
            }
            if !stillRunning { balancing.cancel() }  // shut down meanwhile
        }
        logger.info("started", metadata: ["client": "\(clientPort)", "peer": "\(peerPort)", "partitions": "\(replicas.count)"])
        return ports
    }

    /// The node journal in `<data>/journal/` (nil unless `storageJournal`); opened before
    /// the partition logs, which replay their part of it, and closed after them.
    private func openJournal() throws -> NodeJournal? {
        let directory = "\(configuration.dataDirectory)/journal"
        guard configuration.storageJournal else {
            // A journal left by a crash holds appends the partition files may lack.
            if (try? NodeJournal.hasFiles(in: directory)) ?? true {
                throw NodeError(.storage, "\(directory) holds journal files from a run that did not shut down cleanly; "
                                + "start once with the journal on to replay them")
            }
            return nil
        }
        do {
            return try NodeJournal.open(directory: directory,
                                        options: .init(syncPolicy: configuration.fsync ? .fsyncPerBatch : .none), logger: logger)
        } catch {
            throw NodeError(.storage, "cannot open \(directory): \(error)")
        }
    }

    private func openReplicas(placement: Placement, transport: PeerTransport, hooks: ReplicaHooks,
                              journal: NodeJournal?) throws -> [PartitionID: PartitionReplica] {
        let loops = Array(group.makeIterator())
        let inboxes = loops.map(LoopInbox.init(loop:))
        let syncStarters = loops.map { loop in journal.map { JournalSyncStarter(loop: loop, journal: $0) } }
        var options = PartitionLogOptions(segmentBytesMax: configuration.segmentBytesMax)
        options.syncPolicy = configuration.fsync ? .fsyncPerBatch : .none
        var raftOptions = RaftOptions(id: configuration.nodeID)
        raftOptions.electionTimeoutTicks = configuration.electionTimeoutTicks
        raftOptions.heartbeatIntervalTicks = configuration.heartbeatIntervalTicks
        raftOptions.applyBytesMax = PartitionReplica.applyBytesMax
        // A write waits for the leader's sync and its followers' at once, not one after the
        // other; the replica reports its syncs (`finishDurableReadies`).
        raftOptions.leaderSendsBeforeDurable = true
        let partitions = placement.partitions(hostedBy: configuration.nodeID)
        let opened = NIOLockedValueBox<[PartitionLog]>([])
        let results = NIOLockedValueBox<[PartitionID: Result<PartitionReplica, NodeError>]>([:])
        let (logOptions, replicaRaftOptions) = (options, raftOptions)  // the threads below share them
        @Sendable func openReplica(_ partition: PartitionID) -> Result<PartitionReplica, NodeError> {
            var logger = self.logger
            logger[metadataKey: "partition"] = "\(partition)"
            let directory = "\(configuration.dataDirectory)/partition-\(partition.rawValue)"
            return Result { () throws(NodeError) -> PartitionReplica in
                let log: PartitionLog
                do {
                    log = try PartitionLog.open(directory: directory, partition: partition, options: logOptions,
                                                syncWorkers: syncWorkers, journal: journal, logger: logger)
                } catch {
                    throw NodeError(.storage, "cannot open \(directory): \(error)")
                }
                opened.withLockedValue { $0.append(log) }
                return try PartitionReplica(
                    partition: partition, inbox: inboxes[Int(partition.rawValue) % loops.count],
                    syncStarter: syncStarters[Int(partition.rawValue) % loops.count], node: configuration.nodeID,
                    replicas: placement.replicas(of: partition), log: log, raftOptions: replicaRaftOptions,
                    snapshotIntervalEntries: configuration.snapshotIntervalEntries,
                    leaderSweepTicks: Int(max(1, configuration.checkoutSweepIntervalMs / configuration.tickIntervalMs)),
                    transport: transport, hooks: hooks, metrics: metrics,
                    recentEvents: RecentCartEvents(windowMs: configuration.watchResumeWindowMs,
                                                   eventsMax: configuration.watchResumeEventsMax),
                    logger: logger)
            }
        }
        // The partitions open their logs and rebuild their states from them on one thread
        // fewer than there are cores (at least one): a restart under load applies up to a
        // snapshot interval of entries per partition before the node serves (`replayApplied`),
        // and the other nodes, which serve meanwhile, keep a core. On 2 cores, with every
        // core rebuilding, the cluster's load fell to ~7k ops/s with p99 ~60 ms for a second.
        let workers = min(partitions.count, max(1, System.coreCount - 1))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for position in stride(from: worker, to: partitions.count, by: workers) {
                let partition = partitions[position]
                let result = openReplica(partition)
                results.withLockedValue { $0[partition] = result }
            }
        }
        var replicas: [PartitionID: PartitionReplica] = [:]
        for partition in partitions {
            switch results.withLockedValue({ $0[partition] }) {
            case .success(let replica):
                replicas[partition] = replica
            case .failure(let error):
                // The journal holds every open log until it closes: a start that fails part way
                // closes the logs it opened, or their files would stay open for the process's life.
                for log in opened.withLockedValue({ $0 }) { try? log.close() }
                throw error
            case nil:
                preconditionFailure("partition \(partition) was not opened")
            }
        }
        return replicas
    }

    private func makePeerServer(tls: TLSContext) -> RPCServer {
        var configuration = RPCServerConfiguration(host: self.configuration.peerHost, port: self.configuration.peerPort,
                                                   security: .tls(tls), identity: "node-\(self.configuration.nodeID.rawValue)",
                                                   nodeID: self.configuration.nodeID, eventLoopGroup: group,
                                                   authenticate: PeerGateway.authenticator)
        configuration.frameBytesMax = FrameLimits.frameBytesHardCap
        configuration.drainTimeoutMs = 1_000
        var logger = self.logger
        logger[metadataKey: "port"] = "peer"
        return RPCServer(configuration: configuration, logger: logger)
    }

    private func makeClientServer(tls: TLSContext, gateway: ClientGateway) -> RPCServer {
        var configuration = RPCServerConfiguration(host: self.configuration.clientHost, port: self.configuration.clientPort,
                                                   security: .tls(tls), identity: "node-\(self.configuration.nodeID.rawValue)",
                                                   nodeID: self.configuration.nodeID, eventLoopGroup: group,
                                                   authenticate: gateway.authenticator)
        configuration.drainTimeoutMs = 5_000
        configuration.streamCreditInitial = self.configuration.streamCreditInitial
        configuration.keepaliveIntervalMs = self.configuration.clientKeepaliveIntervalMs
        var logger = self.logger
        logger[metadataKey: "port"] = "client"
        return RPCServer(configuration: configuration, logger: logger)
    }

    /// Registers the peer port's methods; returns the assembler of the snapshots peers send.
    private func registerPeerMethods(on server: RPCServer, table: MethodTable,
                                     replicas: [PartitionID: PartitionReplica], contact: PeerContact) -> SnapshotAssembler {
        server.register(.peerRaft, onEventLoop: { (batch, context) throws(RPCError) -> RaftBatchAck in
            try PeerGateway.checkSender(batch.from, of: context)
            contact.heard(from: batch.from)
            // One task per partition, run after this read: stepping a batch's messages at once
            // instead measured 13 % more journal syncs per write (0.27 -> 0.30-0.31).
            var byPartition: [PartitionID: [Message]] = [:]
            var unknown: UInt32 = 0
            for item in batch.messages {
                try PeerGateway.checkSender(item.message.from, of: context)
                if replicas[item.partition] != nil {
                    byPartition[item.partition, default: []].append(item.message)
                } else {
                    unknown += 1
                }
            }
            for (partition, messages) in byPartition {
                let replica = replicas[partition]!
                replica.loop.execute { replica.receive(messages) }
            }
            return RaftBatchAck(unknownPartitions: unknown)
        })
        let assembler = SnapshotAssembler(limits: SnapshotAssembler.Limits(
            transferBytesMax: configuration.snapshotTransferBytesMax, idleMs: SnapshotAssembler.Limits.default.idleMs))
        assembler.serve(on: server, metrics: metrics, logger: logger) { partition, message in
            replicas[partition]?.receiveSnapshot(message)
        }
        server.register(.peerForward, onEventLoopFuture: { call, context in
            let caller = Caller(actor: call.actor, forwarded: true)
            return table.serve(call.method, payload: ByteBuffer(bytes: call.payload), caller: caller, on: context.eventLoop)
                .map { ForwardedReply(payload: Array($0.readableBytesView)) }
        })
        server.register(.peerPropose, onEventLoopFuture: { request, context in
            var bytes = ByteBufferAllocator().buffer(capacity: 128)
            do { try request.encodeRPC(into: &bytes) } catch { return context.eventLoop.makeFailedFuture(error) }
            return table.serve(.peerPropose, payload: bytes, caller: Caller(actor: nil, forwarded: true), on: context.eventLoop)
                .flatMapThrowing { try ProposeCommandReply.decodeRPC(from: $0) }
        })
        return assembler
    }

    // MARK: Shutdown

    /// The node journal, if the node runs with one (for fault-injection tests).
    var journal: NodeJournal? { running.withLockedValue { $0?.journal } }

    /// Drains clients, stops replicas, closes peer links and logs, stops the threads.
    public func shutdown() async {
        guard let running = running.withLockedValue({ state -> Running? in
            defer { state = nil }
            return state
        }) else {
            syncWorkers?.stop()
            try? await group.shutdownGracefully()
            return
        }
        running.snapshotTransferSweep.cancel()
        running.leaderBalancing?.cancel()
        for probe in running.stallProbes { probe.cancel() }
        // Leaderships go to caught-up replicas first: their partitions elect no one after a
        // timeout, as after a crash, and this node's callers are sent to the new leaders.
        // Raft abandons a transfer not done within an election timeout: no use waiting longer.
        let stillLeading = await running.services.handOverLeaderships(
            limitMs: configuration.electionTimeoutMs + configuration.tickIntervalMs)
        if stillLeading > 0 {
            logger.info("stopping while leading partitions no other replica could take", metadata: ["count": "\(stillLeading)"])
        }
        await running.metricsServer?.shutdown()
        // Watch streams never end on their own: end them first ('unavailable', so their
        // clients watch again on another node) rather than let them hold the drain to its timeout.
        for replica in running.replicas.values {
            try? await replica.loop.submit { replica.watchers.closeAll() }.get()
        }
        await running.clientServer.shutdown()
        for replica in running.replicas.values {
            try? await replica.loop.submit { replica.stop() }.get()
        }
        // The replicas lead nothing any more: the node's own calls routed from now on, and
        // the retries of those waiting, fail at once. Sagas still running propose nothing more (their
        // checkouts are left to the partitions' next leaders); they end below, once the links
        // have failed what they wait on. (Cancelled earlier, the checkouts of the drain would
        // fail while this node still leads, and be retried against it until it stopped.)
        running.services.router.stop()
        running.services.sagaRuns.cancelAll()
        await running.peerServer.shutdown()
        // No client or peer is left to answer: calls still waiting for a leader end now.
        running.services.router.close()
        await PartitionReplica.drainSnapshotQueues()
        await running.transport.shutdown()
        // Before the loops stop: a saga step or a routed call's retry sent to a stopped loop
        // would never be answered.
        if !(await running.services.sagaRuns.waitForAll(limitMs: Self.sagaRunsWaitMs)) {
            logger.warning("checkout sagas still running at shutdown", metadata: ["count": "\(running.services.sagaRuns.count)"])
        }
        if !(await running.services.router.waitForRetries(limitMs: Self.routedRetriesWaitMs)) {
            logger.warning("routed calls still retrying at shutdown", metadata: ["count": "\(running.services.router.retriesWaiting)"])
        }
        for replica in running.replicas.values {
            do {
                try replica.storage.log.close()
            } catch {
                logger.error("closing a partition log failed", metadata: ["partition": "\(replica.partition)", "error": "\(error)"])
            }
        }
        running.journal?.close()
        syncWorkers?.stop()
        try? await threadPool.shutdownGracefully()
        try? await group.shutdownGracefully()
        logger.info("stopped")
    }

    // MARK: Helpers

    private static func tlsContext(_ configuration: TLSConfiguration) throws(NodeError) -> TLSContext {
        do {
            return try TLSContext(configuration: configuration)
        } catch {
            throw NodeError(.tls, "\(error)")
        }
    }

    /// Binds `server` without accepting yet (`accept` once its methods are registered).
    private static func listen(_ server: RPCServer, _ name: String) async throws(NodeError) -> Int {
        do {
            return try await server.start(accepting: false)
        } catch {
            throw NodeError(.listen, "\(name) port: \(error)")
        }
    }

    private static func accept(_ server: RPCServer, _ name: String) async throws(NodeError) {
        do {
            try await server.startAccepting()
        } catch {
            throw NodeError(.listen, "\(name) port: \(error)")
        }
    }

    private func loadKeyring() throws(NodeError) -> SecretKeyring {
        let path = configuration.tokenKeysPath ?? "\(configuration.dataDirectory)/token-keys"
        do {
            try FileManagerShim.makeDirectory(configuration.dataDirectory)
            if FileManagerShim.exists(path) { return try SecretKeyring.load(path: path) }
            return try SecretKeyring.createFile(at: path)
        } catch {
            throw NodeError(.configuration, "token keys at \(path): \(error)")
        }
    }
}

extension CartNode {
    /// This node's replica of `partition` while the node runs (tests and tools).
    func replica(_ partition: PartitionID) -> PartitionReplica? {
        running.withLockedValue { $0?.replicas[partition] }
    }

    /// A copy of the domain state of this node's replica of `partition` (nil if not hosted
    /// or not running), read on the replica's loop. For status tools and tests.
    func replicaState(_ partition: PartitionID) async -> PartitionState? {
        guard let replica = running.withLockedValue({ $0?.replicas[partition] }) else { return nil }
        return try? await replica.loop.submit { replica.state }.get()
    }

    /// This node's view of the partitions it hosts.
    public func partitionStatuses() async -> [PartitionStatus] {
        guard let running = running.withLockedValue({ $0 }) else { return [] }
        return (try? await running.services.partitionStatuses(on: group.next()).get()) ?? []
    }

    var placement: Placement? { running.withLockedValue { $0?.services.placement } }
    /// The node's copy of catalogue items (tests make it disagree with the item's partition).
    var itemCache: ItemCache? { running.withLockedValue { $0?.services.items } }

    /// The running node's services (nil once stopped). For tests.
    var services: NodeServices? { running.withLockedValue { $0?.services } }

    /// Tests: this node stops sending the link follow-ups of the writes it serves, as if it
    /// stopped right after answering them; only the leaders' re-sends deliver them.
    func disableImmediateLinkSendsForTesting() {
        running.withLockedValue { $0?.services.links.immediateSendsDisabled = true }
    }

    /// Tests: this node's replica of `partition` fails as if its storage had (nil if not hosted).
    func failStorageForTesting(_ partition: PartitionID, _ error: any Error) async throws {
        guard let replica = running.withLockedValue({ $0?.replicas[partition] }) else { return }
        try await replica.loop.submit { replica.failStorageForTesting(error) }.get()
    }
}

extension CartNode {
    /// Proposes a node-internal command at `partition`'s leader, as the saga does (tests and
    /// tools that need to set up a state, such as a checkout interrupted after its first step).
    func proposeInternal(_ command: Command, partition: PartitionID) async throws -> CommandOutcome {
        guard let services = running.withLockedValue({ $0?.services }) else {
            throw RPCError(.unavailable, "node is not running")
        }
        return try await services.proposeInternal(command, partition: partition, request: nil, on: group.next()).get()
    }
}
