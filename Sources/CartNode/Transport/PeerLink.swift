import CartAPI
import CartRaft
import CartRPC
import CartTypes
import CartWire
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The connection from this node to one peer, over mutual-TLS CartRPC.
///
/// Raft messages for any partition are queued here from any replica's loop and flushed as
/// one `Peer.raft` request per flush: the first message queued schedules a flush on the
/// connection's loop, and everything queued before it runs travels in the same frame.
/// Batches go one-way (no RPC answer; Raft's own responses come back on the peer's link to
/// us). A snapshot message goes on its own, in pieces of at most `snapshotChunkBytes`
/// (`Peer.snapshot`, one call at a time), so a snapshot of any size fits the frame limit and
/// Raft hears whether it arrived. A socket that is not writable, or `batchesInflightMax`
/// snapshot transfers running, drops messages (Raft resends what matters), so a stalled peer
/// costs bounded memory.
final class PeerLink: Sendable {
    static let batchesInflightMax = 64
    static let batchBytesMax = 8 << 20
    static let raftCallTimeoutMs: Int64 = 5_000
    static let reconnectPauseMs: Int64 = 200
    static let snapshotChunkBytesDefault = 1 << 20

    let member: ClusterMember
    let from: NodeID
    let client: RPCClient
    let snapshotChunkBytes: Int
    private let fallbackLoop: any EventLoop
    private let logger: Logger
    private let metrics: NodeMetrics

    private struct State {
        var outbox: [(PartitionRaftMessage, (any SnapshotDeliveryListener)?)] = []
        var flushScheduled = false
        var connection: RPCConnection?
        var connecting = false
        var nextConnectAt = NIODeadline.uptimeNanoseconds(0)
        var inflight = 0
        /// When a failed snapshot delivery was last logged (the leader retries every heartbeat).
        var snapshotFailureLoggedAt = NIODeadline.uptimeNanoseconds(0)
        /// Set by `shutdown`: the connection closing then is this node's doing.
        var closing = false
    }

    private let state = NIOLockedValueBox(State())
    /// Hears the link's connections come and go (`listen`).
    private let listener = NIOLockedValueBox<Listener?>(nil)

    /// What a link tells about its connection to the peer, with the peer's id.
    struct Listener: Sendable {
        /// A new connection to the peer completed its handshake: the peer answers.
        var connected: @Sendable (NodeID) -> Void
        /// The connection closed other than by this node's shutdown: the peer stopped or
        /// died, or the path failed.
        var lost: @Sendable (NodeID) -> Void
    }

    init(member: ClusterMember, from: NodeID, client: RPCClient, fallbackLoop: any EventLoop, metrics: NodeMetrics,
         snapshotChunkBytes: Int = snapshotChunkBytesDefault, logger: Logger) {
        precondition(snapshotChunkBytes > 0, "snapshot pieces must hold data")
        self.metrics = metrics
        self.snapshotChunkBytes = snapshotChunkBytes
        self.member = member
        self.from = from
        self.client = client
        self.fallbackLoop = fallbackLoop
        self.logger = logger
    }

    /// Queues one Raft message (from `replica`'s loop, which hears about snapshot delivery).
    func enqueue(_ message: PartitionRaftMessage, replica: (any SnapshotDeliveryListener)?) {
        let loop: (any EventLoop)? = state.withLockedValue { state in
            state.outbox.append((message, replica))
            guard !state.flushScheduled else { return nil }
            state.flushScheduled = true
            return state.connection?.eventLoop ?? fallbackLoop
        }
        loop?.execute { self.flush() }
    }

    private func flush() {
        typealias Queued = [(PartitionRaftMessage, (any SnapshotDeliveryListener)?)]
        let (connection, messages, dropped) = state.withLockedValue { state -> (RPCConnection?, Queued, Queued) in
            state.flushScheduled = false
            let messages = state.outbox
            state.outbox.removeAll(keepingCapacity: true)
            guard let connection = state.connection, connection.isUsable else {
                state.connection = nil
                return (nil, [], messages)
            }
            guard state.inflight < Self.batchesInflightMax else { return (connection, [], messages) }
            return (connection, messages, [])
        }
        if !dropped.isEmpty {
            metrics.increment(.raftMessagesDropped, by: UInt64(dropped.count))
            reportUndelivered(dropped)
        }
        guard let connection else {
            connectIfDue()
            return
        }
        guard connection.eventLoop.inEventLoop else {
            // The connection changed loops since the flush was scheduled: requeue there.
            state.withLockedValue { $0.outbox.insert(contentsOf: messages, at: 0); $0.flushScheduled = true }
            connection.eventLoop.execute { self.flush() }
            return
        }
        var batched = messages
        if messages.contains(where: { $0.0.message.kind == .snapshot }) {
            batched.removeAll { $0.0.message.kind == .snapshot }
            for (item, listener) in messages where item.message.kind == .snapshot {
                sendSnapshot(item, listener, on: connection)
            }
        }
        var start = 0
        while start < batched.count {
            var bytes = 0
            var end = start
            while end < batched.count, end == start || bytes < Self.batchBytesMax {
                bytes += batched[end].0.message.entries.reduce(64) { $0 + $1.sizeBytes }
                end += 1
            }
            send(Array(batched[start..<end]), on: connection)
            start = end
        }
    }

    private func send(_ messages: [(PartitionRaftMessage, (any SnapshotDeliveryListener)?)], on connection: RPCConnection) {
        let batch = RaftBatch(from: from, messages: messages.map(\.0))
        var payload = connection.channel.allocator.buffer(capacity: 256)
        do {
            try batch.encodeRPC(into: &payload)
        } catch {
            logger.error("cannot encode raft batch", metadata: ["error": "\(error)"])
            metrics.increment(.raftMessagesDropped, by: UInt64(messages.count))
            reportUndelivered(messages)
            return
        }
        // Raft tolerates lost messages and answers with messages of its own, so a batch needs
        // no RPC answer: it goes one-way (`noReply`), saving a frame each way per batch. A
        // socket that cannot keep up drops batches rather than queueing them (bounded memory).
        guard connection.channel.isWritable else {
            metrics.increment(.raftMessagesDropped, by: UInt64(messages.count))
            return
        }
        do {
            try connection.send(.peerRaft, payload: payload)
            metrics.increment(.raftBatchesSent)
            metrics.increment(.raftMessagesSent, by: UInt64(messages.count))
            countAppends(messages)
        } catch {
            metrics.increment(.raftMessagesDropped, by: UInt64(messages.count))
        }
    }

    /// Appends and the entries they carry: how well replication batches (entries per append)
    /// and how many appends only tell a follower the commit index (empty).
    private func countAppends(_ messages: [(PartitionRaftMessage, (any SnapshotDeliveryListener)?)]) {
        var appends: UInt64 = 0
        var empty: UInt64 = 0
        var entries: UInt64 = 0
        for (item, _) in messages where item.message.kind == .append {
            appends += 1
            if item.message.entries.isEmpty { empty += 1 }
            entries += UInt64(item.message.entries.count)
        }
        metrics.increment(.raftAppendsSent, by: appends)
        metrics.increment(.raftEmptyAppendsSent, by: empty)
        metrics.increment(.raftEntriesSent, by: entries)
    }

    /// Sends one snapshot message in pieces of at most `snapshotChunkBytes`, each once the
    /// previous one was answered; the last piece's answer says the follower has it all,
    /// which Raft needs to resume replication to that follower. A piece that fails fails the
    /// delivery, and Raft sends the snapshot again later, from its first piece.
    private func sendSnapshot(_ item: PartitionRaftMessage, _ listener: (any SnapshotDeliveryListener)?,
                              on connection: RPCConnection) {
        var header = item.message
        let data = header.snapshot?.data ?? []
        header.snapshot?.data = []
        state.withLockedValue { $0.inflight += 1 }
        metrics.increment(.raftMessagesSent)
        let transfer = SnapshotTransfer(partition: item.partition, header: header, data: data, listener: listener,
                                        startedAt: .now())
        sendPiece(of: transfer, at: 0, on: connection)
    }

    /// The last piece is answered once the follower has decoded the snapshot (about 10 MB/s
    /// on a busy small machine), so its timeout grows with the snapshot: 2 MB/s is allowed.
    static func lastPieceTimeoutMs(snapshotBytes: Int) -> Int64 {
        raftCallTimeoutMs + Int64(snapshotBytes / 2_000)
    }

    private struct SnapshotTransfer {
        let partition: PartitionID
        let header: Message
        let data: [UInt8]
        let listener: (any SnapshotDeliveryListener)?
        let startedAt: NIODeadline
    }

    private func sendPiece(of transfer: SnapshotTransfer, at offset: Int, on connection: RPCConnection) {
        let end = min(transfer.data.count, offset + snapshotChunkBytes)
        let chunk = SnapshotChunk(from: from, partition: transfer.partition, message: transfer.header, offset: UInt64(offset),
                                  totalBytes: UInt64(transfer.data.count), data: Array(transfer.data[offset..<end]))
        var payload = connection.channel.allocator.buffer(capacity: end - offset + 256)
        do {
            try chunk.encodeRPC(into: &payload)
        } catch {
            return finish(transfer, .failure(error))
        }
        metrics.increment(.raftSnapshotChunksSent)
        let timeoutMs = end < transfer.data.count ? Self.raftCallTimeoutMs : Self.lastPieceTimeoutMs(snapshotBytes: transfer.data.count)
        connection.startCall(.peerSnapshot, payload: payload, timeoutMs: timeoutMs) { [self] _, result in
            let answer = result.mapError { $0 as any Error }.flatMap { bytes in Result { try SnapshotChunkAck.decodeRPC(from: bytes) } }
            switch answer {
            case .success(let ack) where ack.receivedBytes == UInt64(end):
                if end < transfer.data.count {
                    sendPiece(of: transfer, at: end, on: connection)
                } else {
                    finish(transfer, .success(()))
                }
            case .success(let ack):
                finish(transfer, .failure(RPCError(.internal, "the follower holds \(ack.receivedBytes) bytes of the snapshot, not \(end)")))
            case .failure(let error):
                finish(transfer, .failure(error))
            }
        }
    }

    private func finish(_ transfer: SnapshotTransfer, _ result: Result<Void, any Error>) {
        state.withLockedValue { $0.inflight -= 1 }
        switch result {
        case .success:
            metrics.increment(.raftSnapshotsSent)
            logger.info("sent snapshot", metadata: [
                "peer": "\(member.id)", "partition": "\(transfer.partition)", "bytes": "\(transfer.data.count)",
                "index": "\(transfer.header.snapshot?.metadata.index ?? .zero)",
                "ms": "\((NIODeadline.now() - transfer.startedAt).nanoseconds / 1_000_000)",
            ])
        case .failure(let error):
            snapshotFailed(transfer, error)
        }
        transfer.listener?.snapshotDelivered(to: transfer.header.to, partition: transfer.partition,
                                             succeeded: (try? result.get()) != nil)
    }

    /// A snapshot that does not arrive is counted, and logged at most every 10 s per peer: a
    /// follower that keeps failing to get one (say a snapshot larger than it accepts) never
    /// catches up, and the leader retries at every heartbeat.
    private func snapshotFailed(_ transfer: SnapshotTransfer, _ error: any Error) {
        metrics.increment(.raftSnapshotsUndelivered)
        let now = NIODeadline.now()
        let log = state.withLockedValue { state -> Bool in
            guard now - state.snapshotFailureLoggedAt >= .seconds(10) else { return false }
            state.snapshotFailureLoggedAt = now
            return true
        }
        guard log else { return }
        logger.warning("snapshot delivery failed", metadata: [
            "peer": "\(member.id)", "partition": "\(transfer.partition)", "bytes": "\(transfer.data.count)",
            "error": "\(error)",
        ])
    }

    /// Raft pauses a follower while its snapshot is on the way and resumes only when told
    /// how the delivery went. A snapshot dropped here (no usable connection yet, say just
    /// after the follower restarted) must be reported failed, or the leader would wait for it
    /// forever and the follower would never catch up.
    private func reportUndelivered(_ messages: [(PartitionRaftMessage, (any SnapshotDeliveryListener)?)]) {
        for (item, listener) in messages where item.message.kind == .snapshot {
            metrics.increment(.raftSnapshotsUndelivered)
            listener?.snapshotDelivered(to: item.message.to, partition: item.partition, succeeded: false)
        }
    }

    /// Starts connecting unless a connect is running or failed less than `reconnectPauseMs` ago.
    private func connectIfDue() {
        let start = state.withLockedValue { state -> Bool in
            guard !state.connecting, NIODeadline.now() >= state.nextConnectAt else { return false }
            state.connecting = true
            return true
        }
        guard start else { return }
        Task {
            do {
                let connection = try await client.connection()
                adopt(connection)
                state.withLockedValue { $0.connecting = false }
            } catch {
                state.withLockedValue { state in
                    state.connecting = false
                    state.nextConnectAt = NIODeadline.now() + .milliseconds(Self.reconnectPauseMs)
                }
                logger.debug("peer unreachable", metadata: ["peer": "\(member.id)", "error": "\(error)"])
            }
        }
    }

    /// Makes `connection` the link's, unless it is no longer usable or the link already has
    /// another usable one (a call and a reconnect may each have connected): the listener hears
    /// of it once, and of its closing while it is the link's (or the link has none).
    private func adopt(_ connection: RPCConnection) {
        guard connection.isUsable else { return }
        let isNew = state.withLockedValue { state -> Bool in
            if let current = state.connection, current === connection || current.isUsable { return false }
            state.connection = connection
            return true
        }
        guard isNew else { return }
        listener.withLockedValue { $0 }?.connected(member.id)
        connection.channel.closeFuture.whenComplete { [self] _ in
            let lost = state.withLockedValue { state -> Bool in
                // A connection the link had already replaced says nothing about the peer.
                guard state.connection === connection || state.connection == nil else { return false }
                state.connection = nil
                return !state.closing
            }
            if lost { listener.withLockedValue { $0 }?.lost(member.id) }
        }
    }

    /// When the peer was last found out of reach (a connect attempt failed, the stall watch
    /// or the keepalive gave a connection up as hung, or one broke without a go-away), if no
    /// connection has completed its hello since; nil otherwise. A go-away, an idle close or
    /// a connection's planned replacement is not such evidence. A peer this node hears from
    /// may still be out of its reach: when only the path to it is cut, the peer's own link
    /// brings its messages here all the same. While it is out of reach, asking starts a
    /// connect attempt (one at a time, `reconnectPauseMs` apart), so the link finds out that
    /// the path healed even when nothing else is sent to the peer.
    func unreachableSince() -> NIODeadline? {
        guard let since = client.unreachableSince else { return nil }
        connectIfDue()
        return since
    }

    /// `listener` hears from now on of each new connection to the peer and each one lost.
    func listen(_ listener: Listener) {
        self.listener.withLockedValue { $0 = listener }
    }

    /// A unary call to the peer (forwarded requests, saga steps), connecting if needed.
    func call<Request, Response>(_ method: RPCMethod<Request, Response>, _ request: Request,
                                 timeoutMs: Int64, on loop: any EventLoop) -> EventLoopFuture<Response> {
        let promise = loop.makePromise(of: Response.self)
        let connection = state.withLockedValue { state -> RPCConnection? in
            guard let connection = state.connection, connection.isUsable else { return nil }
            return connection
        }
        if let connection {
            start(method, request, timeoutMs: timeoutMs, on: connection, promise: promise)
        } else {
            let client = self.client
            promise.completeWithTask {
                let connection = try await client.connection()
                self.adopt(connection)
                return try await client.call(method, request, timeout: .milliseconds(timeoutMs))
            }
        }
        return promise.futureResult
    }

    private func start<Request, Response>(_ method: RPCMethod<Request, Response>, _ request: Request, timeoutMs: Int64,
                                          on connection: RPCConnection, promise: EventLoopPromise<Response>) {
        connection.eventLoop.execute {
            var payload = connection.channel.allocator.buffer(capacity: 128)
            do {
                try request.encodeRPC(into: &payload)
            } catch {
                return promise.fail(error)
            }
            connection.startCall(method.id, payload: payload, timeoutMs: timeoutMs) { _, result in
                switch result {
                case .success(let bytes):
                    do { promise.succeed(try Response.decodeRPC(from: bytes)) } catch { promise.fail(error) }
                case .failure(let error):
                    promise.fail(error)
                }
            }
        }
    }

    func shutdown() async {
        state.withLockedValue { $0.closing = true }
        await client.shutdown()
    }
}

/// Hears whether a snapshot message reached its follower (a partition replica, which tells
/// its Raft node). Called on any thread.
protocol SnapshotDeliveryListener: AnyObject, Sendable {
    func snapshotDelivered(to node: NodeID, partition: PartitionID, succeeded: Bool)
}
