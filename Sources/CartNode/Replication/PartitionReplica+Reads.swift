import CartAPI
import CartDomain
import CartRaft
import CartRPC
import CartTypes
import NIOCore

// Reads on a replica: linearizable ones (ReadIndex rounds, read barriers), and whether the
// replica may serve local reads and watches from its own copy.

extension PartitionReplica {
    /// Runs `body` on the state once this leader has confirmed its leadership with a
    /// majority and applied everything committed before the read arrived (ReadIndex, §6.4).
    func readLinearizable<T: Sendable>(_ body: @escaping (PartitionState) throws(RPCError) -> T) -> EventLoopFuture<T> {
        guard isLeader || stopped else { return loop.makeFailedFuture(notLeaderError()) }
        return readAfterBarrier(body)
    }

    /// Completes once this replica, leader or follower, has applied everything its leader
    /// had committed when the barrier was asked: a follower asks the leader for its commit
    /// index (one round trip) and waits to apply up to it. What a follower refuses after the
    /// barrier (a cart it does not know yet, a share it has not applied yet) is refused as of
    /// then, not because the follower lags. Fails `unavailable` when no leader answers.
    func readBarrier() -> EventLoopFuture<Void> {
        readAfterBarrier { _ in () }.flatMapErrorThrowing { [partition] error in
            guard let rpc = error as? RPCError, rpc.code == .notLeader else { throw error }
            throw RPCError(.unavailable, "\(partition) has no leader to confirm a read with", retryAfterMs: 100)
        }
    }

    private func readAfterBarrier<T: Sendable>(_ body: @escaping (PartitionState) throws(RPCError) -> T) -> EventLoopFuture<T> {
        let promise = loop.makePromise(of: T.self)
        guard !stopped else {
            promise.fail(RPCError(.unavailable, "node is shutting down", retryAfterMs: 100))
            return promise.futureResult
        }
        metrics.increment(.readsLinearizable)
        readBatch.append { [unowned self] result in
            switch result {
            case .success:
                do { promise.succeed(try body(state)) } catch { promise.fail(error) }
            case .failure(let error):
                promise.fail(error)
            }
        }
        scheduleReady()
        return promise.futureResult
    }

    // MARK: ReadIndex rounds

    func startReadIndexRound() {
        guard !readBatch.isEmpty else { return }
        let batch = readBatch
        readBatch.removeAll()
        let id = nextReadID
        nextReadID &+= 1
        do {
            try raft.readIndex(context: withUnsafeBytes(of: id.littleEndian) { Array($0) })
            readsAwaitingIndex[id] = ReadRound(askedAtTick: ticks, completions: batch)
        } catch {
            for completion in batch { completion(.failure(rpcError(error))) }
        }
    }

    func readIndexConfirmed(_ readState: ReadState) {
        guard readState.context.count == 8 else { return }
        let id = readState.context.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard let round = readsAwaitingIndex.removeValue(forKey: id) else { return }
        readsAwaitingApply.append((readState.index, round))
    }

    /// Fails the read rounds asked `readRoundTicksMax` ticks ago or more that are still not
    /// answered: waiting for their index (a follower's request, or the leader's answer, was
    /// lost: a dropped message, a leader that changed or was cut off), or for this replica to
    /// apply up to it (a follower cut off right after the answer). Nothing else would end them.
    func expireReadRounds() {
        guard !readsAwaitingIndex.isEmpty || !readsAwaitingApply.isEmpty else { return }
        let isExpired = { (round: ReadRound) in self.ticks - round.askedAtTick >= self.readRoundTicksMax }
        let expired = readsAwaitingIndex.values.filter(isExpired) + readsAwaitingApply.map(\.round).filter(isExpired)
        guard !expired.isEmpty else { return }
        readsAwaitingIndex = readsAwaitingIndex.filter { !isExpired($0.value) }
        readsAwaitingApply.removeAll { isExpired($0.round) }
        let error = RPCError(.unavailable, "\(partition) could not confirm a read with its leader", retryAfterMs: 100)
        for round in expired { for completion in round.completions { completion(.failure(error)) } }
    }

    func releaseReads() {
        guard !readsAwaitingApply.isEmpty else { return }
        var waiting: [(index: LogIndex, round: ReadRound)] = []
        for read in readsAwaitingApply {
            if read.index <= appliedIndex {
                for completion in read.round.completions { completion(.success(())) }
            } else {
                waiting.append(read)
            }
        }
        readsAwaitingApply = waiting
    }

    // MARK: Serving from this copy

    /// Whether watches may be served here: the replica runs and has known a leader within
    /// the last `leaderlessWatchTicks` (three election timeouts). Loop-confined.
    var servesWatches: Bool {
        loop.assertInEventLoop()
        return !stopped && ticksWithoutLeader < leaderlessWatchTicks
    }

    /// Why this replica does not serve local reads now; nil when it does: it runs, has caught
    /// up with a leader since it started (`catchUpOnce`), has known one within the last
    /// three election timeouts (as for watches), and has applied what it knew committed three
    /// election timeouts ago (`noteCommitIndex`: a stuck disk or loop). A replica that lost its leader (crashed, cut
    /// off, or only the path to it cut) answers for three election timeouts more and then
    /// refuses, so a local read is never older than about that plus the time a follower keeps
    /// a silent leader (one to two election timeouts). Loop-confined.
    var localReadRefusal: String? {
        loop.assertInEventLoop()
        if stopped { return "its replica of \(partition) has stopped" }
        if !caughtUpSinceStart {
            return "its replica of \(partition) has not caught up with a leader since the node started: its copy may be old"
        }
        if ticksWithoutLeader >= leaderlessWatchTicks {
            return "its replica of \(partition) has known no leader for three election timeouts: its copy may be stale"
        }
        if appliesBehind {
            return "its replica of \(partition) has not applied what was committed three election timeouts ago: its copy may be stale"
        }
        return nil
    }

    /// Keeps this tick's commit index, and whether the one kept `leaderlessWatchTicks` ago is
    /// still ahead of what the replica applied.
    func noteCommitIndex() {
        let slot = Int(ticks % UInt64(commitIndexByTick.count))
        appliesBehind = appliedIndex < commitIndexByTick[slot]
        commitIndexByTick[slot] = raft.commitIndex
    }

    /// Once a replica has known no leader for three election timeouts, its watchers end with
    /// `unavailable` and resume on another node: no events can reach it meanwhile, and
    /// waiting silently would look like a quiet cart.
    func countLeaderlessTick() {
        guard raft.leaderHint == .none else {
            ticksWithoutLeader = 0
            catchUpOnce()
            return
        }
        ticksWithoutLeader += 1
        if ticksWithoutLeader == leaderlessWatchTicks, watchers.count > 0 {
            logger.warning("no leader for three election timeouts; watchers sent elsewhere", metadata: ["watchers": "\(watchers.count)"])
            watchers.closeAll()
        }
    }

    /// Once per start, with a leader known: a read barrier, whose success marks the replica
    /// caught up (`localReadRefusal`); a failed one is asked again on a later tick.
    private func catchUpOnce() {
        guard !caughtUpSinceStart, !catchUpBarrierAsked else { return }
        catchUpBarrierAsked = true
        readBarrier().whenComplete { [self] result in
            if case .success = result { caughtUpSinceStart = true } else { catchUpBarrierAsked = false }
        }
    }
}
