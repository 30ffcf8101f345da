import CartAPI
import CartDomain
import CartRaft
import CartRPC
import CartStorage
import CartTypes
import CartWire
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// One partition hosted on this node: a Raft core, its durable log and the partition's
/// domain state, all confined to ONE event loop (`loop`). Every method must be called on
/// that loop; nothing here takes a lock, and Raft is never touched from two threads.
/// (`@unchecked Sendable` so that other loops can hand it work with `loop.execute`.)
///
/// The Ready loop follows the contract on `RaftNode`, with asynchronous storage writes:
/// 1. take the Ready;
/// 2. persist: snapshot (saved, log reset), hard state (only when term or vote changed;
///    its commit index is clamped to the durable log so recovery never trusts an index the
///    log does not hold), a cut of a conflicting suffix: all three off the loop, the Ready
///    held unadvanced and its entries unwritten until then; entries (a group-committed
///    append whose durability callback comes back to this loop);
/// 5. `advance` right away, so the next Ready can be taken while this one syncs (at most
///    `readiesInflightMax` in flight);
/// 3. once the Ready's entries are durable (callbacks arrive in order), send its messages
///    (batched per peer by the transport);
/// 4. then apply its snapshot and committed entries to `PartitionState`, answer proposals
///    and reads, publish cart events to watchers. Committed entries that were already
///    durable when the Ready was taken are applied immediately instead.
///
/// No message leaves before the entries and votes it vouches for are durable, which is
/// what step 2-before-3 protects. Heartbeats, pre-votes, their answers and ReadIndex messages
/// vouch for none, so they leave at once (`sendMessagesNeedingNoWrite`), before any Ready is taken:
/// a slow sync delays replication, not the leases. Advancing early only lets the core hand
/// out the next batch, and the state machine still applies in log order. Proposals arriving while a
/// sync runs go out together in the next Ready: group commit per partition, no timer.
///
/// The leader sends its append messages only after its own entries are durable. Raft allows
/// a leader to write and send in parallel (thesis §10.2.1), but this core counts the
/// leader's own entries towards the commit quorum as soon as they are appended, so sending
/// first could let followers apply an entry that is durable on one node only.
final class PartitionReplica: @unchecked Sendable {
    let partition: PartitionID
    let loop: any EventLoop
    /// Where the storage threads post this replica's durability callbacks (shared by the
    /// replicas of `loop`).
    let inbox: LoopInbox
    /// Starts the journal's sync for this loop's appends (nil: the log syncs by itself).
    let syncStarter: JournalSyncStarter?
    let node: NodeID
    let replicas: [NodeID]
    let raft: RaftNode
    let storage: RaftStorageAdapter
    /// The domain state. Changed only by applying entries or restoring a snapshot
    /// (PartitionReplica+Apply.swift), on this loop.
    var state: PartitionState
    let watchers = WatchRegistry()
    /// The cart events applied in the last few seconds, for watches that resume from before
    /// the retained history (`NodeConfiguration.watchResumeWindowMs`).
    var recentEvents: RecentCartEvents
    var logger: Logger

    let transport: PeerTransport
    let hooks: ReplicaHooks
    let metrics: NodeMetrics
    let snapshotIntervalEntries: UInt64
    /// Extra entries before this replica's first snapshot, in [0, interval/2), different per
    /// partition and node (see `maybeTakeSnapshot`).
    let firstSnapshotDelayEntries: UInt64
    let codec = BinarySnapshotCodec()
    /// Encodes and saves the replicas' snapshots, one at a time, off their event loops.
    static let snapshotQueue = DispatchQueue(label: "cart-snapshots", qos: .utility)
    /// Saves the replicas' hard states (a new term or vote) off their event loops: several
    /// replicas at once (an election moves many), each one save at a time (`takeReady`).
    static let hardStateQueue = DispatchQueue(label: "cart-hard-states", qos: .userInitiated, attributes: .concurrent)
    var snapshotInProgress = false
    /// Bytes of log entries applied since the state the latest snapshot holds (see
    /// `snapshotDue`); counted from the capture of a snapshot, or from a leader's install.
    var bytesAppliedSinceSnapshot = 0
    /// Decodes the leaders' snapshots before their messages reach Raft (`receiveSnapshot`).
    static let restoreQueue = DispatchQueue(label: "cart-snapshot-restores", qos: .userInitiated)
    /// A leader snapshot decoded off the loop, for `restore` to take instead of decoding on the
    /// loop. At most one per replica: dropped when used, and by the first Ready after it that
    /// does not install it (Raft refused the snapshot as stale).
    var predecoded: PredecodedSnapshot?
    /// The leader snapshot being decoded on `restoreQueue` (see `receiveSnapshot`).
    var restoring: SnapshotRestore?
    /// Which snapshot this replica still wants decoded, read by `restoreQueue` to skip a decode
    /// that a newer snapshot made useless.
    let wantedRestore = NIOLockedValueBox<SnapshotMetadata?>(nil)

    var pending: [LogIndex: PendingProposal] = [:]
    var readBatch: [ReadCompletion] = []
    /// One ReadIndex round: the reads that share it, and when it was asked.
    struct ReadRound {
        let askedAtTick: UInt64
        let completions: [ReadCompletion]
    }
    var readsAwaitingIndex: [UInt64: ReadRound] = [:]
    var readsAwaitingApply: [(index: LogIndex, round: ReadRound)] = []
    /// Read contexts go to the leader, which drops a request whose context is already waiting:
    /// they start at a random value so that followers' rounds (and rounds from before a
    /// restart) never share one.
    var nextReadID = UInt64.random(in: 0...UInt64.max)
    /// Advanced only by apply and restore (PartitionReplica+Apply.swift).
    var appliedIndex: LogIndex
    /// The applied index last noted in the log's applied mark (`saveAppliedMarkIfDue`), and
    /// whether a save is under way.
    var appliedMarkSaved: LogIndex
    var appliedMarkSaving = false
    var ticksSinceAppliedMark: UInt64 = 0
    /// Ticks between two saves of the applied mark: a second's worth (set by `start`).
    var appliedMarkIntervalTicks: UInt64 = 20
    /// The end of the log the disk holds for sure: it rises when a Ready's entries are synced
    /// and drops at once when a Ready truncates or resets the log (see `takeReady`), so the
    /// commit index saved with a hard state never points past it.
    var durableLastIndex: LogIndex
    var savedTerm: Term
    var savedVote: NodeID
    /// Readies whose persist step is done or under way, oldest first.
    var inflight: [InflightReady] = []
    var nextReadySequence: UInt64 = 0
    static let readiesInflightMax = 8
    var readyScheduled = false
    var stopped = false
    private var ticker: RepeatedTask?
    /// Ticks left until the replica campaigns for the partition of a lost leader (`leaderGone`).
    private var ticksUntilCampaign: Int?
    /// How often a leader heartbeats its followers, in ticks.
    private let heartbeatIntervalTicks: Int
    private var lastRole: Role = .follower
    /// Ticks between two `hooks.leading` calls while this replica leads, and since the last.
    private let leaderSweepTicks: Int
    private var ticksSinceLeaderSweep = 0
    /// Ticks since this replica last knew a leader, and how many make it stop serving watches:
    /// a replica cut off from its group (it keeps campaigning, so it knows no leader) would
    /// otherwise hold its watchers silently until the partition heals.
    var ticksWithoutLeader = 0
    let leaderlessWatchTicks: Int
    /// Whether this replica has caught up with a leader since it started: a read barrier
    /// asked once it knew a leader completed (it applied what that leader had committed).
    /// Until then its state is what its disk held, however old, and it serves no local read.
    var caughtUpSinceStart = false
    var catchUpBarrierAsked = false
    /// The commit index this replica knew at each of the last `leaderlessWatchTicks` ticks
    /// (a ring indexed by tick), and whether it has still not applied the oldest of them: a
    /// replica whose disk or loop keeps it from applying what its leader committed three
    /// election timeouts ago serves no local read, however well it hears the leader.
    var commitIndexByTick: [LogIndex]
    var appliesBehind = false
    /// Request keys of writes whose availability check is under way here, each with its
    /// number of attempts (`propose(request:item:lookUp:_:)`).
    var keysBeingChecked: [RequestKey: Int] = [:]
    /// Ticks since start, and how long a read round may wait for its index (two election
    /// timeouts) before it fails (`expireReadRounds`).
    private(set) var ticks: UInt64 = 0
    let readRoundTicksMax: UInt64
    /// How long the oldest Ready may wait for its sync (five election timeouts, 2.5 s by
    /// default, twice the longest stall seen on a shared test disk) before this replica
    /// counts its disk as stuck and stops sending heartbeats ahead of it.
    let diskStuckTicks: UInt64
    var diskStuckReported = false

    init(partition: PartitionID, inbox: LoopInbox, syncStarter: JournalSyncStarter?, node: NodeID, replicas: [NodeID], log: PartitionLog,
         raftOptions: RaftOptions, snapshotIntervalEntries: UInt64, leaderSweepTicks: Int, transport: PeerTransport,
         hooks: ReplicaHooks, metrics: NodeMetrics, recentEvents: RecentCartEvents, logger: Logger) throws(NodeError) {
        self.metrics = metrics
        self.partition = partition
        self.loop = inbox.loop
        self.inbox = inbox
        self.syncStarter = syncStarter
        self.node = node
        self.replicas = replicas
        self.transport = transport
        self.hooks = hooks
        self.snapshotIntervalEntries = snapshotIntervalEntries
        self.leaderSweepTicks = leaderSweepTicks
        leaderlessWatchTicks = 3 * raftOptions.electionTimeoutTicks
        commitIndexByTick = Array(repeating: .zero, count: max(1, leaderlessWatchTicks))
        heartbeatIntervalTicks = raftOptions.heartbeatIntervalTicks
        readRoundTicksMax = UInt64(2 * raftOptions.electionTimeoutTicks)
        diskStuckTicks = UInt64(5 * raftOptions.electionTimeoutTicks)
        firstSnapshotDelayEntries = Self.snapshotStagger(partition: partition, node: node, interval: snapshotIntervalEntries)
        self.logger = logger
        let configuration = Configuration(voters: replicas)
        let snapshot: CartStorage.Snapshot?
        do {
            snapshot = try log.snapshots.loadLatest()
        } catch {
            throw NodeError(.storage, "cannot read the snapshot of \(partition): \(error)")
        }
        try Self.checkLogContinues(snapshotIndex: snapshot?.lastIndex ?? .zero, log: log, partition: partition)
        if let snapshot {
            try Self.finishInterruptedInstall(of: snapshot, in: log, partition: partition, logger: logger)
        }
        storage = RaftStorageAdapter(log: log, configuration: configuration, snapshot: snapshot)
        var rebuilt: PartitionState
        if let snapshot {
            do {
                rebuilt = try PartitionState(snapshotBytes: snapshot.data, using: codec)
            } catch {
                throw NodeError(.snapshot, "snapshot \(snapshot.lastIndex) of \(partition) is unreadable: \(error)")
            }
        } else {
            rebuilt = PartitionState()
        }
        let stored: CartStorage.HardState
        do {
            stored = try log.loadHardState()
        } catch {
            throw NodeError(.storage, "cannot read the hard state of \(partition): \(error)")
        }
        savedTerm = stored.term
        savedVote = stored.vote
        // What this replica knew committed before it stopped is applied now, before the node
        // serves; Raft starts with it applied, and committed (the storage's floor).
        let known = min(max(stored.commit, Self.loadAppliedMark(of: log, logger: logger)), log.lastIndex)
        let began = NIODeadline.now()
        var recentEvents = recentEvents
        let replayed = try Self.replayApplied(after: storage.snapshotMetadata.index, through: known, log: log, into: &rebuilt,
                                              recentEvents: &recentEvents, partition: partition, logger: logger)
        if replayed.entries > 0 {
            metrics.increment(.entriesApplied, by: UInt64(replayed.entries))
            logger.info("rebuilt the state from the log", metadata: [
                "snapshot": "\(storage.snapshotMetadata.index)", "applied": "\(replayed.applied)", "entries": "\(replayed.entries)",
                "ms": "\((NIODeadline.now() - began).nanoseconds / 1_000_000)",
            ])
        }
        state = rebuilt
        self.recentEvents = recentEvents
        appliedIndex = replayed.applied
        appliedMarkSaved = replayed.applied
        bytesAppliedSinceSnapshot = replayed.bytes
        storage.commitFloor = replayed.applied
        durableLastIndex = log.lastIndex
        var options = raftOptions
        options.appliedIndex = appliedIndex
        raft = RaftNode(options: options, storage: storage, random: SystemRandomNumberGenerator())
    }

    // MARK: Lifecycle

    /// Starts ticking; a one-replica group campaigns at once.
    func start(tickInterval: TimeAmount) {
        loop.assertInEventLoop()
        for item in state.items.values { hooks.itemChanged(item) }
        appliedMarkIntervalTicks = UInt64(max(1, 1_000_000_000 / max(1, tickInterval.nanoseconds)))
        // A strong capture, cancelled by `stop`: a weak one would give the replica a side
        // table, and every retain and release of it (several per write) would take the slow path.
        ticker = loop.scheduleRepeatedTask(initialDelay: tickInterval, delay: tickInterval) { [self] _ in
            guard !self.stopped else { return }
            self.ticks += 1
            self.campaignIfLeaderStillGone()
            self.raft.tick()
            self.runReady()
            self.expireReadRounds()
            self.countLeaderlessTick()
            self.noteCommitIndex()
            self.saveAppliedMarkIfDue()
            self.ticksSinceLeaderSweep += 1
            if self.lastRole == .leader && self.ticksSinceLeaderSweep >= self.leaderSweepTicks && self.appliedOwnTerm {
                self.ticksSinceLeaderSweep = 0
                self.hooks.leading(self)
            }
        }
        if replicas == [node] { raft.campaign() }
        runReady()
    }

    /// Stops ticking and answering; pending requests fail with a retryable error. The log
    /// is closed by the caller once the Ready in flight (if any) has finished.
    func stop() {
        loop.assertInEventLoop()
        stopped = true
        ticker?.cancel()
        failPending(RPCError(.unavailable, "node is shutting down", retryAfterMs: 100))
        watchers.closeAll()
        // So that a clean restart rebuilds everything applied before it serves.
        if appliedIndex > appliedMarkSaved { try? storage.log.saveAppliedMark(appliedIndex) }
    }

    var isLeader: Bool { raft.currentRole == .leader }
    var leader: NodeID { raft.leaderHint }

    // MARK: Inputs

    /// The connection to `peer` closed, as when its process dies (the kernel closes its
    /// sockets). If `peer` led this partition, the replica forgets it (`forgetLeader`): the
    /// other replicas no longer hold the lease of a leader that is gone, and the first of them
    /// by id campaigns a full tick at least after the loss, and after a heartbeat interval (the
    /// others have heard of it too by then, and grant its pre-vote at once). So the partition
    /// has a new leader after a couple of ticks and a round of votes rather than an election
    /// timeout. If `peer` is alive after all (the connection closed for another reason), its
    /// next heartbeat, due before the campaign, makes it the leader again; and while another
    /// replica still holds its lease the campaign cannot win. Only if every other replica lost
    /// its connection to a live leader at once, and none of its heartbeats came through
    /// meanwhile, may the campaign win: a needless change of leader, not a lost write.
    func leaderGone(_ peer: NodeID) {
        guard !stopped, raft.currentRole == .follower, raft.leaderHint == peer else { return }
        raft.forgetLeader()
        metrics.increment(.leadersForgotten)
        if replicas.filter({ $0 != peer }).min() == node { ticksUntilCampaign = max(2, heartbeatIntervalTicks + 1) }
        scheduleReady()
    }

    private func campaignIfLeaderStillGone() {
        guard let ticks = ticksUntilCampaign else { return }
        guard ticks <= 1 else { return ticksUntilCampaign = ticks - 1 }
        ticksUntilCampaign = nil
        if raft.currentRole == .follower && raft.leaderHint == .none { raft.campaign() }
    }

    /// Feeds messages from a peer.
    func receive(_ messages: [Message]) {
        guard !stopped else { return }
        for message in messages {
            do {
                try raft.step(message)
            } catch {
                logger.warning("dropped raft message", metadata: ["error": "\(error)", "from": "\(message.from)"])
            }
        }
        scheduleReady()
    }

    /// Proposes `command` (as leader). `completion` runs on this loop once the entry is applied.
    func propose(_ command: Command, request: RequestKey?, completion: @escaping ProposalCompletion) {
        guard !stopped else {
            return completion(.failure(RPCError(.unavailable, "node is shutting down", retryAfterMs: 100)))
        }
        let envelope = CommandEnvelope(command, at: Self.now(), request: request)
        let data: [UInt8]
        do {
            data = try envelope.logEntryBytes()
        } catch {
            return completion(.failure(RPCError(.internal, "cannot encode command: \(error)")))
        }
        do {
            let (index, term) = try raft.propose(data)
            let replaced = pending.updateValue(PendingProposal(term: term, request: request, completion: completion), forKey: index)
            // A proposal of an earlier term at this index can no longer commit here (its entry
            // was overwritten); answer it rather than drop its completion.
            replaced?.completion(.failure(notLeaderError()))
            metrics.increment(.proposals)
            scheduleReady()
        } catch {
            metrics.increment(.proposalsFailed)
            completion(.failure(rpcError(error)))
        }
    }

    func propose(_ command: Command, request: RequestKey?) -> EventLoopFuture<CommandOutcome> {
        let promise = loop.makePromise(of: CommandOutcome.self)
        propose(command, request: request) { promise.completeWith($0.mapError { $0 as any Error }) }
        return promise.futureResult
    }

    // MARK: Storage failure

    func storageFailed(_ error: any Error) {
        // A failed sync may have lost pages the kernel reported as written: stop serving
        // this partition rather than acknowledge anything more (see CartStorage README).
        logger.critical("partition storage failed; replica stopped", metadata: ["error": "\(error)"])
        stopped = true
        ticker?.cancel()
        failPending(RPCError(.unavailable, "partition \(partition) storage failed on this node", retryAfterMs: 1_000))
        watchers.closeAll()  // their streams end with `unavailable`; clients watch again elsewhere
        hooks.leaderChanged(partition, .none)
    }

    /// Tests: the replica's storage failing with `error`, as a failed sync would report it.
    func failStorageForTesting(_ error: any Error) {
        loop.assertInEventLoop()
        storageFailed(error)
    }

    // MARK: Leadership

    func softStateChanged(_ soft: SoftState) {
        hooks.leaderChanged(partition, soft.leader)
        let wasLeader = lastRole == .leader
        lastRole = soft.role
        if wasLeader && soft.role != .leader {
            logger.info("lost leadership", metadata: ["leader": "\(soft.leader == .none ? "unknown" : "\(soft.leader)")"])
            failPending(notLeaderError())
        } else if !wasLeader && soft.role == .leader {
            logger.info("became leader", metadata: ["term": "\(raft.currentTerm)"])
            // The first sweep waits for `appliedOwnTerm` (the next tick after it): before, the
            // state may miss what the previous leader committed, such as a checkout's decision.
            ticksSinceLeaderSweep = leaderSweepTicks
        }
    }

    /// Whether this replica has applied an entry of the current term (a new leader's no-op):
    /// only then does its state hold everything earlier leaders committed.
    var appliedOwnTerm: Bool {
        appliedIndex > .zero && raft.term(at: appliedIndex) == raft.currentTerm
    }

    private func failPending(_ error: RPCError) {
        let proposals = pending
        pending.removeAll()
        for (_, proposal) in proposals { proposal.completion(.failure(error)) }
        let reads = readBatch + readsAwaitingIndex.values.flatMap(\.completions) + readsAwaitingApply.flatMap(\.round.completions)
        readBatch.removeAll()
        readsAwaitingIndex.removeAll()
        readsAwaitingApply.removeAll()
        for read in reads { read(.failure(error)) }
    }

    // MARK: Errors

    func notLeaderError() -> RPCError {
        RPCError(.notLeader, "node \(node) does not lead \(partition)", retryAfterMs: 50)
    }

    func rpcError(_ error: any Error) -> RPCError {
        switch error as? RaftError {
        case .notLeader?: notLeaderError()
        case .proposalDropped?, .readIndexDropped?: RPCError(.resourceExhausted, "\(partition) is overloaded", retryAfterMs: 20)
        case .transferInProgress?: RPCError(.unavailable, "\(partition) is changing leader", retryAfterMs: 50)
        case .proposalTooLarge?: RPCError(.invalidArgument, "\(error)")
        default: RPCError(.internal, "\(error)")
        }
    }

    /// A replica's delay before its first snapshot: spread over [0, interval/2) by partition
    /// and node, deterministically (the same replica keeps its phase across restarts).
    static func snapshotStagger(partition: PartitionID, node: NodeID, interval: UInt64) -> UInt64 {
        let span = interval / 2
        guard span > 0 else { return 0 }
        var mixed = UInt64(partition.rawValue) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(node.rawValue) &* 0xC2B2_AE3D_27D4_EB4F
        mixed ^= mixed >> 31
        return mixed % span
    }

    static func now() -> Timestamp {
        Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))
    }
}

extension ItemEvent {
    /// The items an event changed, for the item cache.
    var itemIDs: [ItemID] {
        switch self {
        case .itemPut(let e): [e.item.id]
        case .stockAdjusted(let e): [e.item]
        case .stockReserved(let e): e.lines.map(\.item)
        case .stockReleased(let e): e.lines.map(\.item)
        case .reservationCommitted(let e): e.lines.map(\.item)
        }
    }
}

extension PartitionReplica: SnapshotDeliveryListener {
    func snapshotDelivered(to node: NodeID, partition: PartitionID, succeeded: Bool) {
        loop.execute { [self] in
            // The transport's shutdown fails the deliveries in flight after the replica stopped.
            guard !stopped else { return }
            raft.reportSnapshot(to: node, succeeded: succeeded)
        }
    }
}
