import CartRaft
import CartStorage
import CartTypes
import NIOCore

// The Ready loop of the type's documentation: take a Ready, persist it (snapshot, hard
// state, entries through group commit), advance, and once its entries are durable send its
// messages and apply what it committed. Loop-confined like the rest of the replica.

extension PartitionReplica {
    /// Committed entries one `runReady` hands over before it continues in a later task, so
    /// the other replicas' tasks and timers of its loop run in between. A replica with a long
    /// committed backlog (entries committed while its node was down) used to apply all of it
    /// in one task, stalling every partition of its loop for up to seconds. What a replica
    /// had applied before a restart is applied before the node serves (`replayApplied`).
    ///
    /// The loop's sockets still wait: NIO runs queued tasks, and the tasks they queue, until
    /// none is left before it polls again. Its peers and clients treat the node as down
    /// meanwhile, which on a loaded small machine costs less than serving them while it
    /// catches up: a budget per loop tick that let the node poll between slices made a chaos
    /// soak 13 % slower, add p99 12.9 ms against 7.8 ms, create p99 82 ms against 14 ms.
    static let committedEntriesPerTurnMax = 1_024
    /// Bytes of committed entries per Ready (`RaftOptions.applyBytesMax`) for the same reason.
    static let applyBytesMax = 256 << 10

    func scheduleReady() {
        guard !readyScheduled else { return }
        readyScheduled = true
        loop.execute { [self] in
            readyScheduled = false
            runReady()
        }
    }

    func runReady() {
        startReadIndexRound()
        sendMessagesNeedingNoWrite()
        var committed = 0
        while !stopped, inflight.count < Self.readiesInflightMax, raft.hasReady {
            committed += takeReady()
            if committed >= Self.committedEntriesPerTurnMax && raft.hasReady { return scheduleReady() }
        }
    }

    /// Steps 1, 2 and 5 of the contract for one Ready; steps 3 and 4 wait in `inflight`
    /// until its entries are durable, in Ready order.
    ///
    /// Several Readies may be in flight (etcd's asynchronous storage writes): the core is
    /// advanced as soon as the entries are written, and each Ready's messages are sent only
    /// after its own entries (and so every earlier Ready's, since syncs are ordered) are
    /// durable. Committed entries that were already durable when the Ready was taken are
    /// applied at once, so an answer never waits for the sync of unrelated newer entries.
    /// Returns how many committed entries the Ready carried (for `runReady`'s slicing).
    @discardableResult
    func takeReady() -> Int {
        var ready = raft.ready()
        if !ready.messagesBeforeDurable.isEmpty {
            // The leader's appends (`leaderSendsBeforeDurable`) leave now, so the followers
            // write them while this node does; the heartbeats' rule holds for them too.
            if diskIsStuck() {
                ready.messages = ready.messagesBeforeDurable + ready.messages
            } else {
                transport.send(ready.messagesBeforeDurable, partition: partition, replica: self)
            }
            ready.messagesBeforeDurable = []
        }
        // Confirmed read indexes wait for nothing but the apply (`releaseReads`), which only
        // covers durable entries: a read need not wait for this Ready's sync.
        for readState in ready.readStates { readIndexConfirmed(readState) }
        if predecoded != nil, ready.snapshot == nil, !inflight.contains(where: { $0.ready.snapshot != nil }) {
            predecoded = nil  // Raft did not take the snapshot it was decoded for
        }
        metrics.increment(.entriesCommitted, by: UInt64(ready.committedEntries.count))
        var later = ready.committedEntries
        if inflight.isEmpty, ready.snapshot == nil {
            let split = later.firstIndex { $0.index > durableLastIndex } ?? later.count
            if split == later.count {
                apply(later)
                later = []
            } else if split > 0 {
                apply(Array(later[..<split]))
                later = Array(later[split...])
            }
        }
        let sequence = nextReadySequence
        nextReadySequence += 1
        // A new term or vote, a cut of the log's conflicting suffix and a leader's snapshot
        // are written off the loop (each syncs, and a disk that stalls would stall every
        // partition of the loop, in an election above all). The Ready waits for them
        // unadvanced, so no later Ready is taken meanwhile, and its entries reach the disk
        // only after the snapshot, the hard state they were written under and the cut they
        // replace (`writtenOffLoop`).
        let offLoop = OffLoopWrites(
            install: ready.snapshot.map { snapshot in
                // Saved ahead on the restore queue. Newer saves may have pushed that file out
                // of the store's two retained since; a restart then loads a newer one, which
                // is committed state too, and the log is never reset past the newest file.
                (snapshot, predecoded.map { $0.saved && $0.metadata == snapshot.metadata } ?? false)
            },
            hardState: hardStateToSave(ready.hardState, truncatingAt: ready.entries.first?.index,
                                       durableEnd: ready.snapshot?.metadata.index),
            cutAfter: ready.snapshot == nil ? storage.conflictingSuffix(of: ready.entries) : nil)
        inflight.append(InflightReady(sequence: sequence, ready: ready, committedEntries: later,
                                      durable: offLoop.isEmpty && ready.entries.isEmpty, takenAtTick: ticks))
        if offLoop.isEmpty {
            writeAndAdvance(ready, sequence: sequence)
        } else {
            writeOffLoop(offLoop, sequence: sequence)
        }
        return ready.committedEntries.count
    }

    /// Steps 2 and 5 for a Ready whose snapshot, hard state and cut, if any, are written
    /// (`writtenOffLoop`).
    func writeAndAdvance(_ ready: Ready, sequence: UInt64) {
        do {
            if let snapshot = ready.snapshot {
                storage.adoptInstalled(snapshot)
                // The reset is durable now: the disk's log ends at the snapshot, whatever
                // earlier Readies still in flight were writing past it.
                durableLastIndex = snapshot.metadata.index
            }
            // A conflicting suffix is cut by now, durably (the entries replacing it come with
            // the sync): from here the disk's log may end before them.
            if let first = ready.entries.first { durableLastIndex = min(durableLastIndex, first.index.previous) }
            if !ready.entries.isEmpty {
                try storage.append(ready.entries, startingSync: syncStarter == nil) { [self] result in
                    inbox.post {
                        switch result {
                        case .success: self.markDurable(sequence)
                        case .failure(let error): self.storageFailed(error)
                        }
                    }
                }
                syncStarter?.requestStart()
            }
        } catch {
            storageFailed(error)
            return
        }
        raft.advance(ready)
        finishDurableReadies()
    }

    /// Heartbeats, pre-votes, their answers and ReadIndex messages go out at once, even while Readies
    /// wait for a sync (and when `readiesInflightMax` of them do): a journal `fdatasync`
    /// that stalls for longer than an election timeout (the disk is shared by every
    /// partition of the node) would otherwise hold back every heartbeat answer of the
    /// node's followers, and their leaders would step down by check-quorum. So do the
    /// leader's appends (`RaftOptions.leaderSendsBeforeDurable`): the followers write an
    /// entry while the leader does, and it commits on the first majority of syncs.
    func sendMessagesNeedingNoWrite() {
        guard !stopped, !diskIsStuck() else { return }
        let early = raft.takeMessagesSendableBeforeDurable()
        if !early.isEmpty { transport.send(early, partition: partition, replica: self) }
    }

    /// Whether the oldest Ready has waited `diskStuckTicks` (five election timeouts) for its
    /// sync. A disk that does not return at all must not look alive: a leader whose
    /// heartbeats and appends kept flowing would hold its partition forever (its followers
    /// would even commit its entries without it, and it could answer no one). From then on
    /// those messages wait for the disk like the rest, so the group elects a leader whose
    /// disk works. Warns once when the disk first counts as stuck.
    func diskIsStuck() -> Bool {
        guard let oldest = inflight.first, !oldest.durable, ticks - oldest.takenAtTick >= diskStuckTicks else {
            diskStuckReported = false
            return false
        }
        if !diskStuckReported {
            diskStuckReported = true
            logger.warning("a sync has not returned for five election timeouts; heartbeats and appends now wait for the disk, so the partition can elect a leader whose disk works",
                           metadata: ["readiesWaiting": "\(inflight.count)"])
        }
        return true
    }

    func markDurable(_ sequence: UInt64) {
        guard !stopped else { return }
        if let position = inflight.firstIndex(where: { $0.sequence == sequence }) {
            inflight[position].durable = true
        }
        finishDurableReadies()
        runReady()
    }

    /// The hard state to save when term or vote changed, noted as saved from now on; nil when
    /// nothing needs saving. Its commit is capped at the durable log (or at `durableEnd`, where
    /// a snapshot saved first ends it), and below the first entry of the Ready it belongs to
    /// (`truncatingAt`): that Ready may replace what the disk holds from there, and until its
    /// append is durable the disk has the old entries.
    func hardStateToSave(_ hardState: CartRaft.HardState?, truncatingAt first: LogIndex?,
                         durableEnd: LogIndex? = nil) -> CartStorage.HardState? {
        guard let hardState, hardState.term != savedTerm || hardState.vote != savedVote else { return nil }
        savedTerm = hardState.term
        savedVote = hardState.vote
        var commit = min(hardState.commit, durableEnd ?? durableLastIndex)
        if let first { commit = min(commit, first.previous) }
        return CartStorage.HardState(term: hardState.term, vote: hardState.vote, commit: commit)
    }

    /// What a Ready writes off the loop, in this order: a leader's snapshot (saved unless
    /// saved ahead, then the log reset to it), the hard state, a cut of the log after an index.
    struct OffLoopWrites: Sendable {
        var install: (snapshot: CartRaft.Snapshot, savedAhead: Bool)?
        var hardState: CartStorage.HardState?
        var cutAfter: LogIndex?

        var isEmpty: Bool { install == nil && hardState == nil && cutAfter == nil }
    }

    /// Runs `writes` on the hard-state queue; the loop goes on meanwhile. One such batch per
    /// replica at a time: its Ready stays unadvanced until `writtenOffLoop`.
    ///
    /// A cut waits for the journal's sync in progress and then syncs its own record and the
    /// partition's file, and so does a snapshot's reset: tens of milliseconds on this
    /// machine's disk, and without end on a disk that hangs. The log's end counts as cut from
    /// now on (`durableCap`), so no earlier Ready's sync reports entries past it durable. Raft
    /// reads nothing at or past the cut meanwhile: the unadvanced Ready's entries (or
    /// snapshot) are still the core's unstable ones.
    func writeOffLoop(_ writes: OffLoopWrites, sequence: UInt64) {
        let log = storage.log
        if let index = writes.cutAfter { durableLastIndex = min(durableLastIndex, index) }
        let began = NIODeadline.now()
        Self.hardStateQueue.async { [self] in
            let result = Result {
                if case let (snapshot, savedAhead)? = writes.install {
                    try RaftStorageAdapter.installFiles(snapshot, alreadySaved: savedAhead, in: log)
                }
                if let state = writes.hardState { try log.saveHardState(state) }
                if let index = writes.cutAfter { try log.truncateSuffix(after: index) }
            }
            let elapsed = NIODeadline.now() - began
            inbox.post {
                if case .success = result, case let (snapshot, savedAhead)? = writes.install {
                    self.logger.info("installed the leader's snapshot in the log", metadata: [
                        "index": "\(snapshot.metadata.index)", "bytes": "\(snapshot.data.count)", "savedAhead": "\(savedAhead)",
                        "ms": "\(elapsed.nanoseconds / 1_000_000)",
                    ])
                }
                if case .success = result, let index = writes.cutAfter {
                    self.logger.info("cut the log: the leader replaced the entries after this index", metadata: [
                        "index": "\(index)", "ms": "\(elapsed.nanoseconds / 1_000_000)",
                    ])
                }
                self.writtenOffLoop(result, sequence: sequence)
            }
        }
    }

    /// The writes of the Ready `sequence` off the loop are on disk (or failed to get there):
    /// now its entries are written and the core advanced, as for any other Ready.
    func writtenOffLoop(_ result: Result<Void, any Error>, sequence: UInt64) {
        guard !stopped else { return }
        if case .failure(let error) = result { return storageFailed(error) }
        guard let position = inflight.firstIndex(where: { $0.sequence == sequence }) else { return }
        let ready = inflight[position].ready
        inflight[position].durable = ready.entries.isEmpty
        writeAndAdvance(ready, sequence: sequence)
        runReady()
    }

    /// Steps 3 and 4 for every Ready at the head of `inflight` whose writes are durable.
    func finishDurableReadies() {
        var finished = false
        while let first = inflight.first, first.durable, !stopped {
            inflight.removeFirst()
            finished = true
            let ready = first.ready
            // Up to what the Readies after it have already cut (their truncations and resets
            // reached the disk when they were taken, before this one's sync completed).
            let cap = durableCap()
            if let last = ready.entries.last {
                durableLastIndex = min(last.index, cap ?? last.index)
                // A leader counts itself in the commit quorum only now
                // (`RaftOptions.leaderSendsBeforeDurable`).
                if durableLastIndex == last.index { raft.persisted(through: last.index, term: last.term) }
            }
            if let snapshot = ready.snapshot {
                durableLastIndex = max(durableLastIndex, min(snapshot.metadata.index, cap ?? snapshot.metadata.index))
                restore(snapshot)
            }
            transport.send(ready.messages, partition: partition, replica: self)
            apply(first.committedEntries)
            if let soft = ready.softState { softStateChanged(soft) }
        }
        releaseReads()
        if finished { maybeTakeSnapshot() }
    }

    /// The lowest end of the log a Ready still in flight left on disk when it was taken: the
    /// index before its first entry (its truncation), or its snapshot (its reset); nil if none.
    func durableCap() -> LogIndex? {
        var cap: LogIndex?
        for later in inflight {
            if let snapshot = later.ready.snapshot { cap = min(cap ?? snapshot.metadata.index, snapshot.metadata.index) }
            if let first = later.ready.entries.first { cap = min(cap ?? first.index.previous, first.index.previous) }
        }
        return cap
    }
}
