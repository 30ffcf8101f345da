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
        for entry in entries {
            appliedIndex = entry.index
            let proposal = pending.removeValue(forKey: entry.index)
            guard !entry.data.isEmpty else {
                proposal?.completion(.failure(notLeaderError()))
                continue
            }
            let envelope: CommandEnvelope
            do {
                envelope = try CommandEnvelope(logEntryBytes: entry.data)
            } catch {
                logger.error("undecodable log entry skipped", metadata: ["index": "\(entry.index)", "error": "\(error)"])
                proposal?.completion(.failure(RPCError(.internal, "undecodable log entry")))
                continue
            }
            let result = state.apply(envelope)
            if case .success(let events) = result { publish(events) }
            if let proposal {
                if proposal.term == entry.term {
                    proposal.completion(.success(CommandOutcome(result)))
                } else {
                    proposal.completion(.failure(notLeaderError()))
                }
            }
        }
    }

    /// Publishes one applied entry's events. Its cart events reach watchers stamped with
    /// the time this replica applied the entry (learned it committed): one clock read per
    /// entry, and none when nobody watches its carts.
    func publish(_ events: [Event]) {
        var committedAtMicros: UInt64?
        for event in events {
            switch event {
            case .cart(let cartEvent):
                watchers.publish(cartEvent) {
                    let stamp = committedAtMicros ?? WallClockMicros.now()
                    committedAtMicros = stamp
                    return stamp
                }
            case .item(let itemEvent):
                for id in itemEvent.itemIDs {
                    if let item = state.items[id] { hooks.itemChanged(item) }
                }
            case .user:
                break
            }
        }
    }

    func restore(_ snapshot: CartRaft.Snapshot) {
        defer { predecoded = nil }
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
        for item in state.items.values { hooks.itemChanged(item) }
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
        let floor = storage.snapshotMetadata.index.rawValue
        let due = floor + snapshotIntervalEntries + (floor == 0 ? firstSnapshotDelayEntries : 0)
        guard !snapshotInProgress,
              appliedIndex.rawValue >= due,
              let term = raft.term(at: appliedIndex) else { return }
        snapshotInProgress = true
        let (state, index, codec, snapshots) = (self.state, appliedIndex, self.codec, storage.log.snapshots)
        Self.snapshotQueue.async { [self] in
            let result = Result { () throws -> [UInt8] in
                let data = try state.encodedSnapshot(using: codec)
                try snapshots.save(CartStorage.Snapshot(lastIndex: index, term: term, data: data))
                return data
            }
            loop.execute { self.snapshotSaved(index: index, term: term, result) }
        }
    }

    func snapshotSaved(index: LogIndex, term: Term, _ result: Result<[UInt8], any Error>) {
        snapshotInProgress = false
        guard !stopped else { return }
        do {
            let data = try result.get()
            // A snapshot installed from the leader meanwhile may already be newer: then this
            // one is only an older file on disk, and nothing is compacted.
            try storage.adoptSavedSnapshot(through: index, term: term, data: data)
            metrics.increment(.snapshotsTaken)
            logger.info("took snapshot", metadata: ["index": "\(index)", "bytes": "\(data.count)"])
        } catch {
            logger.error("snapshot failed; the log keeps growing until the next attempt", metadata: ["error": "\(error)"])
        }
    }
}
