import CartAPI
import CartRaft
import CartRPC
import CartTypes
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Puts together the snapshots peers send in pieces (`Peer.snapshot`), one transfer per
/// sending node and partition.
///
/// A piece at offset 0 starts a transfer (replacing an unfinished one from the same node for
/// the same partition: the leader gave up on it and started again). Every other piece must
/// continue its transfer exactly: same snapshot, same length, the next offset. Anything else
/// ends the transfer with a typed error, and the sender starts over when Raft next asks.
///
/// Memory is bounded: a snapshot may be at most `transferBytesMax` long, and the lengths of
/// every unfinished transfer, plus the finished snapshots not yet taken by their replicas
/// (`hold`/`release`), may not pass it either. A transfer holds only the bytes received so
/// far. One that has had no piece for `idleMs` (its sender died or lost leadership) is
/// dropped (`dropIdleTransfers`), so it does not hold the budget.
final class SnapshotAssembler: Sendable {
    struct Limits: Sendable {
        /// The longest snapshot, and the most bytes all unfinished transfers may promise.
        var transferBytesMax: UInt64
        /// How long a transfer may wait for its next piece before it is dropped.
        var idleMs: Int64

        static let `default` = Limits(transferBytesMax: 1 << 30, idleMs: 60_000)
    }

    enum Outcome: Equatable {
        /// The transfer goes on; the receiver holds `receivedBytes` of the data.
        case partial(receivedBytes: UInt64)
        /// The last piece arrived: the snapshot message, whole.
        case complete(Message)
    }

    private struct Key: Hashable {
        let from: NodeID
        let partition: PartitionID
    }

    private struct Transfer {
        var message: Message
        var totalBytes: UInt64
        var data: [UInt8]
        var lastPieceAt: NIODeadline
    }

    private struct State {
        var transfers: [Key: Transfer] = [:]
        /// Bytes of finished snapshots that their replicas have not taken yet.
        var heldBytes: UInt64 = 0
    }

    let limits: Limits
    private let box = NIOLockedValueBox(State())

    init(limits: Limits = .default) {
        self.limits = limits
    }

    /// How many transfers are unfinished, and the bytes they promised (for tests and status).
    var unfinished: (count: Int, promisedBytes: UInt64) {
        box.withLockedValue { ($0.transfers.count, $0.transfers.values.reduce($0.heldBytes) { $0 + $1.totalBytes }) }
    }

    /// Ends the hold on a finished snapshot's bytes once its replica has it. A transfer that
    /// completes is held by `accept` itself, in the step that ends it, so no other transfer
    /// can claim its bytes in between.
    func release(_ bytes: UInt64) { box.withLockedValue { $0.heldBytes -= min($0.heldBytes, bytes) } }

    /// Takes in one piece. A `.complete` outcome's bytes stay held until `release`.
    func accept(_ chunk: SnapshotChunk, now: NIODeadline = .now()) throws(RPCError) -> Outcome {
        guard chunk.message.kind == .snapshot, let snapshot = chunk.message.snapshot, snapshot.data.isEmpty else {
            throw RPCError(.invalidArgument, "a snapshot piece must carry a snapshot message without its data")
        }
        let end = chunk.offset.addingReportingOverflow(UInt64(chunk.data.count))
        guard !end.overflow, end.partialValue <= chunk.totalBytes else {
            throw RPCError(.invalidArgument, "piece at \(chunk.offset) of \(chunk.data.count) bytes passes the snapshot's \(chunk.totalBytes)")
        }
        guard chunk.totalBytes <= limits.transferBytesMax else {
            throw RPCError(.resourceExhausted, "snapshot of \(chunk.totalBytes) bytes is larger than this node accepts (\(limits.transferBytesMax))")
        }
        let key = Key(from: chunk.from, partition: chunk.partition)
        let result: Result<Outcome, RPCError> = box.withLockedValue { state in
            dropIdle(&state.transfers, now: now)
            if chunk.offset == 0 {
                state.transfers[key] = nil
                let promised = state.transfers.values.reduce(state.heldBytes) { $0 + $1.totalBytes }
                guard promised + chunk.totalBytes <= limits.transferBytesMax else {
                    return .failure(RPCError(.resourceExhausted,
                                             "receiving or installing snapshots of \(promised) bytes already",
                                             retryAfterMs: 1_000))
                }
                state.transfers[key] = Transfer(message: chunk.message, totalBytes: chunk.totalBytes, data: [], lastPieceAt: now)
            }
            guard var transfer = state.transfers.removeValue(forKey: key) else {
                return .failure(RPCError(.failedPrecondition, "no snapshot transfer to continue at \(chunk.offset); start at 0"))
            }
            guard transfer.message == chunk.message, transfer.totalBytes == chunk.totalBytes,
                  UInt64(transfer.data.count) == chunk.offset else {
                return .failure(RPCError(.failedPrecondition,
                                         "piece at \(chunk.offset) does not continue the snapshot transfer at \(transfer.data.count); start at 0"))
            }
            transfer.data.append(contentsOf: chunk.data)
            transfer.lastPieceAt = now
            guard UInt64(transfer.data.count) == transfer.totalBytes else {
                let received = UInt64(transfer.data.count)
                state.transfers[key] = transfer
                return .success(.partial(receivedBytes: received))
            }
            var message = transfer.message
            message.snapshot?.data = transfer.data
            state.heldBytes += transfer.totalBytes
            return .success(.complete(message))
        }
        return try result.get()
    }

    /// Drops the transfers idle for longer than `idleMs`. Pieces arriving do it too; the node
    /// also calls this every few seconds, for a sender that died when no other piece may come
    /// for a long time.
    func dropIdleTransfers(now: NIODeadline = .now()) {
        box.withLockedValue { dropIdle(&$0.transfers, now: now) }
    }

    private func dropIdle(_ transfers: inout [Key: Transfer], now: NIODeadline) {
        let horizon = now - .milliseconds(limits.idleMs)
        guard transfers.values.contains(where: { $0.lastPieceAt <= horizon }) else { return }
        transfers = transfers.filter { $0.value.lastPieceAt > horizon }
    }
}

extension SnapshotAssembler {
    /// Serves `Peer.snapshot` on `server`. Each whole snapshot message goes to `deliver`, which
    /// returns nil when this node does not host the partition (refused with `notFound`: its
    /// sender hears the delivery failed), or a future that completes once the partition's
    /// replica has the message. The last piece is answered only then, so the leader hears
    /// "delivered" when the follower's Raft has the snapshot, not while it is still being
    /// decoded (the leader would probe, hear the follower is behind, and send it again).
    func serve(on server: RPCServer, metrics: NodeMetrics, logger: Logger,
               deliver: @escaping @Sendable (PartitionID, Message) -> EventLoopFuture<Void>?) {
        server.register(.peerSnapshot, onEventLoopFuture: { chunk, context in
            metrics.increment(.raftSnapshotChunksReceived)
            let outcome: Outcome
            do {
                try PeerGateway.checkSender(chunk.from, of: context)
                try PeerGateway.checkSender(chunk.message.from, of: context)
                outcome = try self.accept(chunk)
            } catch {
                return context.eventLoop.makeFailedFuture(error)
            }
            switch outcome {
            case .partial(let received):
                return context.eventLoop.makeSucceededFuture(SnapshotChunkAck(receivedBytes: received))
            case .complete(let message):
                guard let handed = deliver(chunk.partition, message) else {
                    self.release(chunk.totalBytes)
                    return context.eventLoop.makeFailedFuture(RPCError(.notFound, "this node does not host \(chunk.partition)"))
                }
                metrics.increment(.raftSnapshotsReceived)
                logger.info("received snapshot", metadata: [
                    "peer": "\(chunk.from)", "partition": "\(chunk.partition)", "bytes": "\(chunk.totalBytes)",
                    "index": "\(message.snapshot?.metadata.index ?? .zero)",
                ])
                handed.whenComplete { _ in self.release(chunk.totalBytes) }
                return handed.hop(to: context.eventLoop).map { SnapshotChunkAck(receivedBytes: chunk.totalBytes) }
            }
        })
    }
}
