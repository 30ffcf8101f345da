import CartTypes
import NIOCore

/// Which leaderships this node should hand over to spread the partitions' leaders evenly
/// over the nodes: elections pick whoever times out first, so after a start or a restart
/// most partitions can be led by one node, which then does most of the cluster's work.
///
/// Pure: from this node's view of the leaders and of which peers answer, nothing else. A
/// node hands a partition only to one of its replicas that answers and leads at least two
/// partitions fewer than itself, so every transfer narrows a gap and two nodes never trade a
/// partition back and forth. Rounds repeat until no node leads two more partitions than a
/// live replica it shares one with. Nothing moves while a partition this node hosts has no
/// known leader (an election is under way); partitions it does not host count only where
/// their leader is known (learned from forwarded calls).
enum LeaderBalance {
    struct Transfer: Equatable {
        let partition: PartitionID
        let target: NodeID
    }

    /// This round's transfers for node `me`, in order: each time, one of the partitions it
    /// leads goes to its live replica leading the fewest partitions, while that replica leads
    /// at least two fewer, counting the transfers planned before it. `leaders[p]` is the
    /// leader of partition p as this node believes (`.none`: unknown); `hosts` says which
    /// partitions this node hosts, `isLive` which peers answered it recently.
    static func plan(me: NodeID, leaders: [NodeID], replicas: (PartitionID) -> [NodeID],
                     hosts: (PartitionID) -> Bool, isLive: (NodeID) -> Bool) -> [Transfer] {
        let partitions = leaders.indices.map { PartitionID(UInt32($0)) }
        guard !partitions.contains(where: { leaders[Int($0.rawValue)] == .none && hosts($0) }) else { return [] }
        var led: [NodeID: Int] = [:]
        for leader in leaders where leader != .none { led[leader, default: 0] += 1 }
        var mine = partitions.filter { leaders[Int($0.rawValue)] == me }
        var transfers: [Transfer] = []
        while true {
            // The partition whose least busy replica is the least busy of all (lowest ids on ties).
            var best: (index: Int, target: NodeID, leads: Int)?
            for (index, partition) in mine.enumerated() {
                guard let target = replicas(partition).filter({ $0 != me && isLive($0) })
                    .min(by: { (led[$0] ?? 0, $0.rawValue) < (led[$1] ?? 0, $1.rawValue) }) else { continue }
                let leads = led[target] ?? 0
                if best == nil || leads < best!.leads { best = (index, target, leads) }
            }
            guard let chosen = best, mine.count - chosen.leads >= 2 else { return transfers }
            transfers.append(Transfer(partition: mine[chosen.index], target: chosen.target))
            led[chosen.target, default: 0] += 1
            mine.remove(at: chosen.index)
        }
    }
}

extension NodeServices {
    /// One round of leader balancing (every `leaderBalanceIntervalMs`): the transfers
    /// `LeaderBalance` plans, each made if this node still leads the partition, leads in its
    /// own term, is not handing it over already, and the target answered within the last
    /// election timeout and holds everything committed (a stopped node is never picked).
    /// Raft then brings the target up to date and tells it to campaign (§3.10); requests in
    /// flight meanwhile get `notLeader` with the new leader's hint. Counted in
    /// `cart_raft_leader_transfers_total`.
    func balanceLeaders() {
        // Which peers answer: those the partitions this node leads heard from lately.
        let leading = replicas.values.filter { router.leaders.leader(of: $0.partition) == node }
        guard !leading.isEmpty else { return }
        let heard = leading.map { replica in
            replica.loop.submit { replica.replicas.filter { replica.raft.hasHeardRecently(from: $0) } }
        }
        EventLoopFuture.whenAllSucceed(heard, on: eventLoopGroup.next()).whenSuccess { [self] lists in
            let live = Set(lists.joined())
            let plan = LeaderBalance.plan(me: node, leaders: router.leaders.all(), replicas: placement.replicas(of:),
                                          hosts: { self.replicas[$0] != nil }, isLive: live.contains)
            for transfer in plan {
                guard let replica = replicas[transfer.partition] else { continue }
                handOver(replica, to: transfer)
            }
        }
    }

    private func handOver(_ replica: PartitionReplica, to transfer: LeaderBalance.Transfer) {
        replica.loop.execute { [self] in
            startHandOver(replica, to: transfer.target, why: "to balance the nodes")
        }
    }

    /// Hands `replica`'s leadership to `target` if it may go there now: the replica runs and
    /// leads in its own term, hands over nothing already, and `target` answered within the
    /// last election timeout and holds everything committed. Returns whether it started.
    /// On the replica's loop.
    @discardableResult
    private func startHandOver(_ replica: PartitionReplica, to target: NodeID, why: String) -> Bool {
        let raft = replica.raft
        // A round planned before the node began to stop can land after: a stopped
        // replica's log may be closed, and its Raft is not touched again.
        guard !replica.stopped, replica.isLeader, replica.appliedOwnTerm, raft.leadershipTransferee == .none,
              raft.hasHeardRecently(from: target),
              let match = raft.matchIndex(of: target), match >= raft.commitIndex else { return false }
        do {
            try raft.transferLeadership(to: target)
        } catch {
            logger.debug("leadership not handed over", metadata: ["partition": "\(replica.partition)", "error": "\(error)"])
            return false
        }
        metrics.increment(.leaderTransfers)
        logger.info("handing over leadership \(why)", metadata: ["partition": "\(replica.partition)", "to": "\(target)"])
        replica.scheduleReady()
        return true
    }

    /// Before a graceful stop: each partition this node leads goes to the replica that holds
    /// the most of its log among those that may take it (see `startHandOver`), and the stop
    /// waits, for at most `limitMs` (Raft abandons a transfer after an election timeout), until
    /// this node leads none. The partitions' followers then need not wait out an election
    /// timeout, as after a crash: the new leader campaigns at once (§3.10), and this node's
    /// callers get `notLeader` naming it meanwhile. Returns how many partitions it still leads
    /// (none normally; some when no replica could take them, as in a one-node cluster or with
    /// the others down).
    func handOverLeaderships(limitMs: Int64) async -> Int {
        let leading = replicas.values.filter { router.leaders.leader(of: $0.partition) == node }
        var handing: [PartitionID] = []
        for replica in leading {
            let started = try? await replica.loop.submit { [self] () -> Bool in
                let raft = replica.raft
                let ranked = replica.replicas.filter { $0 != node }
                    .sorted { (raft.matchIndex(of: $0) ?? .zero) > (raft.matchIndex(of: $1) ?? .zero) }
                for target in ranked where startHandOver(replica, to: target, why: "before this node stops") { return true }
                return false
            }.get()
            if started == true { handing.append(replica.partition) }
        }
        // Only the hand-overs under way are waited for: no other replica will take the rest.
        _ = await waitUntil(limitMs: limitMs, everyMs: 5) { !handing.contains { router.leaders.leader(of: $0) == node } }
        return leading.count { router.leaders.leader(of: $0.partition) == node }
    }
}
