import CartAPI
import CartDomain
import CartRaft
import CartRPC
import CartStorage
import CartTypes
import CartWire
import Foundation
import Logging
import NIOCore

// Step 4 of the Ready loop: committed entries applied to the domain state, their events
// published, proposals answered; and the snapshots that apply makes and installs.
extension PartitionReplica {

    func apply(_ entries: [Entry]) {
        metrics.increment(.entriesApplied, by: UInt64(entries.count))
        // One monotonic clock read per batch dates the batch's cart events for `recentEvents`.
        let appliedAt = recentEvents.isEnabled ? NIODeadline.now().uptimeNanoseconds : 0
        for entry in entries {
            appliedIndex = entry.index
            bytesAppliedSinceSnapshot += entry.data.count
            let proposal = pending.removeValue(forKey: entry.index)
            guard !entry.data.isEmpty else {
                proposal?.completion(.failure(notLeaderError()))
                continue
            }
            guard let (result, repeated) = Self.applyCommand(entry.data, at: entry.index, to: &state, logger: logger) else {
                proposal?.completion(.failure(RPCError(.internal, "undecodable log entry")))
                continue
            }
            // A retry answered from the dedup window changed nothing: its events went out with
            // its first attempt.
            if !repeated, case .success(let events) = result { publish(events, appliedAt: appliedAt) }
            if let proposal {
                if proposal.term == entry.term {
                    proposal.completion(.success(CommandOutcome(result)))
                } else {
                    proposal.completion(.failure(notLeaderError()))
                }
            }
        }
    }

    /// Decodes a (non-empty) log entry's command and applies it to `state`: its result, and
    /// whether it was a retry answered from the dedup window. Nil, logged, for an entry that
    /// does not decode, which is skipped. Shared by the loop's apply and the start-up replay.
    static func applyCommand(_ data: [UInt8], at index: LogIndex, to state: inout PartitionState,
                             logger: Logger) -> (result: Result<[Event], DomainError>, repeated: Bool)? {
        do {
            return state.applyEntry(try CommandEnvelope(logEntryBytes: data))
        } catch {
            logger.error("undecodable log entry skipped", metadata: ["index": "\(index)", "error": "\(error)"])
            return nil
        }
    }

    /// Publishes one applied entry's events. Its cart events reach watchers stamped with
    /// the time this replica applied the entry (learned it committed): one clock read per
    /// entry, and none when nobody watches its carts. They are also kept a while for watches
    /// that resume (`recentEvents`), dated `appliedAt` (monotonic).
    func publish(_ events: [Event], appliedAt: UInt64) {
        var committedAtMicros: UInt64?
        for event in events {
            switch event {
            case .cart(let cartEvent):
                recentEvents.record(cartEvent, at: appliedAt)
                watchers.publish(cartEvent) {
                    let stamp = committedAtMicros ?? WallClockMicros.now()
                    committedAtMicros = stamp
                    return stamp
                }
            case .item(let itemEvent):
                for id in itemEvent.itemIDs {
                    if let item = state.items[id] { hooks.itemChanged(item) }
                }
            case .user, .links:
                break
            }
        }
    }

    func restore(_ snapshot: CartRaft.Snapshot) {
        defer { if let predecoded, predecoded.metadata.index <= snapshot.metadata.index { self.predecoded = nil } }
        do {
            if let predecoded, predecoded.metadata == snapshot.metadata {
                state = predecoded.state
                metrics.increment(.snapshotsDecodedOffLoop)
            } else {
                state = try PartitionState(snapshotBytes: snapshot.data, using: codec)
            }
        } catch {
            // The leader's snapshot passed its own decode; a failure here is corruption in
            // transit or a version mismatch. Stopping is safer than serving a wrong state.
            logger.critical("cannot restore the leader's snapshot", metadata: ["error": "\(error)"])
            storageFailed(error)
            return
        }
        appliedIndex = snapshot.metadata.index
        bytesAppliedSinceSnapshot = 0
        for item in state.items.values { hooks.itemChanged(item) }
        recentEvents.removeAll()  // they stop short of the restored state
        watchers.markAllOverflowed()
        metrics.increment(.snapshotsInstalled)
        logger.info("installed snapshot", metadata: ["index": "\(snapshot.metadata.index)"])
    }

    /// Every `snapshotIntervalEntries` applied entries: the state is encoded and saved off
    /// this loop (on `snapshotQueue`, one snapshot at a time per process), then the log is
    /// compacted through it back on the loop. The state is a value: capturing it costs
    /// nothing, and applying goes on while the copy is encoded (the first change after the
    /// capture copies the changed collection once). A busy partition's snapshot used to stall
    /// every partition and connection of its loop for tens of milliseconds.
    ///
    /// Replicas of a busy cluster apply at about the same rate, so without a stagger every
    /// partition of every node would snapshot within the same second (48 snapshots of ~1 MB
    /// on a 3-node, 16-partition cluster), a burst that showed as the p99 of its load. The
    /// first snapshot comes `firstSnapshotDelayEntries` later than the interval says, and the
    /// later ones keep that phase (they follow the previous snapshot's index).
    func maybeTakeSnapshot() {
        guard !snapshotInProgress,
              Self.snapshotDue(applied: appliedIndex, floor: storage.snapshotMetadata.index, interval: snapshotIntervalEntries,
                               firstDelay: firstSnapshotDelayEntries, bytesSince: bytesAppliedSinceSnapshot,
                               lastSnapshotBytes: storage.snapshotBytes),
              let term = raft.term(at: appliedIndex) else { return }
        snapshotInProgress = true
        let counted = bytesAppliedSinceSnapshot
        bytesAppliedSinceSnapshot = 0
        let (state, index, codec, snapshots) = (self.state, appliedIndex, self.codec, storage.log.snapshots)
        Self.snapshotQueue.async { [self] in
            let result = Result { () throws -> [UInt8] in
                let data = try state.encodedSnapshot(using: codec)
                try snapshots.save(CartStorage.Snapshot(lastIndex: index, term: term, data: data))
                return data
            }
            loop.execute { self.snapshotSaved(index: index, term: term, counted: counted, result) }
        }
    }

    /// About once a second (`appliedMarkIntervalTicks`), the applied index goes to the log's
    /// applied mark, off the loop: a restart applies the log through it before the node
    /// serves (`replayApplied`), instead of learning those entries committed from its leader
    /// and applying them on the loop while it is supposed to be serving.
    func saveAppliedMarkIfDue() {
        ticksSinceAppliedMark += 1
        guard !appliedMarkSaving, ticksSinceAppliedMark >= appliedMarkIntervalTicks, appliedIndex > appliedMarkSaved else { return }
        ticksSinceAppliedMark = 0
        appliedMarkSaving = true
        let (log, index) = (storage.log, appliedIndex)
        Self.hardStateQueue.async { [self] in
            let result = Result { try log.saveAppliedMark(index) }
            inbox.post { self.appliedMarkSaved(index, result) }
        }
    }

    func appliedMarkSaved(_ index: LogIndex, _ result: Result<Void, any Error>) {
        appliedMarkSaving = false
        switch result {
        case .success:
            appliedMarkSaved = max(appliedMarkSaved, index)
        case .failure(let error):
            // Advice only: the next start applies less before serving. A failing disk shows
            // in the appends.
            if !stopped { logger.warning("cannot save the applied mark", metadata: ["error": "\(error)"]) }
        }
    }

    /// A snapshot is due once `interval` entries were applied since the last one (the first
    /// one `firstDelay` later, see `snapshotStagger`) and, as the Raft thesis suggests (§5.1),
    /// once the log since then is at least as large as that snapshot. Snapshotting costs in
    /// proportion to the state: a 36 MB partition takes ~1.6 s to encode, which every 60,000
    /// small entries spent about 27 µs of CPU per write. With this rule the cost per byte
    /// written stays bounded whatever the state's size, and the log never holds more than
    /// about one state's worth (or `interval` entries) beyond the snapshot.
    /// The byte rule waits at most `entriesFactorMax` intervals: a large state of small
    /// entries would otherwise keep tens of millions of entries (index table, replay time).
    static func snapshotDue(applied: LogIndex, floor: LogIndex, interval: UInt64, firstDelay: UInt64,
                            bytesSince: Int, lastSnapshotBytes: Int) -> Bool {
        let due = floor.rawValue + interval + (floor == .zero ? firstDelay : 0)
        guard applied.rawValue >= due else { return false }
        return bytesSince >= lastSnapshotBytes || applied.rawValue >= due + (entriesFactorMax - 1) * interval
    }

    static let entriesFactorMax: UInt64 = 10

    /// The snapshot's file is written: it becomes the floor here, on the loop, and the log
    /// is compacted up to it back on `snapshotQueue` (the new boundary's sync and the
    /// segments' removal would otherwise hold every partition of this loop, and forever on a
    /// disk that hangs). The next snapshot waits until the compaction is done.
    func snapshotSaved(index: LogIndex, term: Term, counted: Int, _ result: Result<[UInt8], any Error>) {
        guard !stopped else { snapshotInProgress = false; return }
        let data: [UInt8]
        do {
            data = try result.get()
        } catch {
            snapshotInProgress = false
            bytesAppliedSinceSnapshot += counted  // the next attempt need not wait again
            logger.error("snapshot failed; the log keeps growing until the next attempt", metadata: ["error": "\(error)"])
            return
        }
        metrics.increment(.snapshotsTaken)
        logger.info("took snapshot", metadata: ["index": "\(index)", "bytes": "\(data.count)"])
        // A snapshot installed from the leader meanwhile may already be newer: then this one
        // is only an older file on disk, and nothing is compacted.
        guard storage.adoptSavedSnapshot(through: index, term: term, data: data) else {
            snapshotInProgress = false
            return
        }
        let log = storage.log
        Self.snapshotQueue.async { [self] in
            let began = NIODeadline.now()
            let result = Result { try log.compactPrefix(through: index) }
            let took = NIODeadline.now() - began
            loop.execute { self.compacted(through: index, result, took: took) }
        }
    }

    func compacted(through index: LogIndex, _ result: Result<Void, any Error>, took: TimeAmount) {
        snapshotInProgress = false
        switch result {
        case .success:
            logger.info("compacted the log", metadata: ["through": "\(index)", "ms": "\(took.nanoseconds / 1_000_000)"])
        case .failure(let error):
            // The snapshot stands; the next one compacts what this one left (a stopped log
            // shows its failure on every call).
            if !stopped { logger.warning("cannot compact the log", metadata: ["through": "\(index)", "error": "\(error)"]) }
        }
    }
}

// MARK: Receiving a leader's snapshot

/// A leader snapshot decoded (and normally saved) off the loop, waiting for Raft to install it.
struct PredecodedSnapshot {
    let metadata: SnapshotMetadata
    let state: PartitionState
    /// Its file is written and synced already: the install only resets the log.
    let saved: Bool
}

/// A leader snapshot on its way to Raft: decoded on `restoreQueue`, then stepped.
struct SnapshotRestore {
    let metadata: SnapshotMetadata
    /// The newest message that carried it: a retry (maybe from a newer leader, in a newer
    /// term) replaces the message, so Raft gets the one its current leader sent.
    var message: Message
    /// Answered once Raft has the message, or failed (stopped, superseded, undecodable).
    let done: EventLoopPromise<Void>
}

extension PartitionReplica {
    /// Feeds a whole leader snapshot message (from any thread); the future completes on this
    /// replica's loop once Raft has it, and the peer answers the snapshot's last piece then.
    ///
    /// Decoding a partition's state takes about a second per 10 MB, which on this loop would
    /// stall every partition and connection it serves. So the state is decoded on
    /// `restoreQueue` first, then Raft gets the message, and `restore` takes the decoded state
    /// when Raft installs that snapshot. The same snapshot sent again meanwhile waits for the
    /// decode under way instead of adding one; a newer one replaces it (the older decode is
    /// skipped if it has not started). A snapshot no newer than the applied state is stepped
    /// at once: Raft refuses it without anything to decode.
    func receiveSnapshot(_ message: Message) -> EventLoopFuture<Void> {
        loop.flatSubmit { [self] in
            guard !stopped else {
                return loop.makeFailedFuture(RPCError(.unavailable, "\(partition) is stopped on this node", retryAfterMs: 1_000))
            }
            guard let snapshot = message.snapshot, !snapshot.data.isEmpty, snapshot.metadata.index > appliedIndex else {
                return step(message)
            }
            if var current = restoring, current.metadata == snapshot.metadata {
                current.message = message
                restoring = current
                return current.done.futureResult
            }
            restoring?.done.fail(RPCError(.aborted, "a newer snapshot of \(partition) replaced this one"))
            let done = loop.makePromise(of: Void.self)
            restoring = SnapshotRestore(metadata: snapshot.metadata, message: message, done: done)
            wantedRestore.withLockedValue { $0 = snapshot.metadata }
            let (codec, wanted, snapshots, logger) = (self.codec, wantedRestore, storage.log.snapshots, self.logger)
            Self.restoreQueue.async { [self] in
                let decoded: Result<PartitionState, any Error>
                if wanted.withLockedValue({ $0 }) == snapshot.metadata {
                    metrics.increment(.snapshotDecodes)
                    decoded = Result { try PartitionState(snapshotBytes: snapshot.data, using: codec) }
                } else {
                    decoded = .failure(RPCError(.aborted, "superseded before it was decoded"))
                }
                // The file is written and synced here too, off the loop (a 36 MB snapshot took
                // 139 ms on it). Saved before Raft takes the message, it is like a crash between
                // an install's save and its log reset: committed state, which a restart installs
                // (`finishInterruptedInstall`). If it fails, the install saves it (off the loop too).
                var saved = false
                if case .success = decoded, wanted.withLockedValue({ $0 }) == snapshot.metadata {  // not made useless meanwhile
                    do {
                        try snapshots.save(CartStorage.Snapshot(lastIndex: snapshot.metadata.index, term: snapshot.metadata.term,
                                                                data: snapshot.data))
                        saved = true
                    } catch {
                        logger.warning("could not save a leader's snapshot ahead of its install", metadata: ["error": "\(error)"])
                    }
                }
                loop.execute { [self, saved] in restored(snapshot.metadata, decoded, saved: saved) }
            }
            return done.futureResult
        }
    }

    /// Back on the loop after a decode: the newest message for the snapshot goes to Raft with
    /// the decoded state waiting for `restore`. A state that does not decode is refused
    /// (the leader hears the delivery failed) and never saved.
    private func restored(_ metadata: SnapshotMetadata, _ decoded: Result<PartitionState, any Error>, saved: Bool) {
        guard let current = restoring, current.metadata == metadata else { return }  // replaced; already answered
        restoring = nil
        wantedRestore.withLockedValue { if $0 == metadata { $0 = nil } }
        guard !stopped else {
            return current.done.fail(RPCError(.unavailable, "\(partition) stopped on this node", retryAfterMs: 1_000))
        }
        switch decoded {
        case .success(let state):
            predecoded = PredecodedSnapshot(metadata: metadata, state: state, saved: saved)
            step(current.message).cascade(to: current.done)
        case .failure(let error):
            logger.error("refused a leader's snapshot that does not decode", metadata: [
                "index": "\(metadata.index)", "error": "\(error)",
            ])
            current.done.fail(RPCError(.invalidArgument, "snapshot \(metadata.index) of \(partition) does not decode: \(error)"))
        }
    }

    /// Steps one message into Raft; fails if Raft refuses it outright.
    private func step(_ message: Message) -> EventLoopFuture<Void> {
        do {
            try raft.step(message)
        } catch {
            return loop.makeFailedFuture(RPCError(.invalidArgument, "raft refused the message: \(error)"))
        }
        scheduleReady()
        return loop.makeSucceededVoidFuture()
    }

    /// Waits until every decode, and every local snapshot, queued so far has handed its result
    /// to its loop (shutdown: before the loops stop and the logs close, so each decode's answer
    /// is given and no snapshot file is written into a closed log's directory).
    static func drainSnapshotQueues() async {
        for queue in [restoreQueue, snapshotQueue] {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                queue.async { continuation.resume() }
            }
        }
    }
}
