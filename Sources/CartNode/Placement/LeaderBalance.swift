import CartTypes
import NIOCore

/// Which leaderships this node should hand over to spread the partitions' leaders evenly
/// over the nodes: elections pick whoever times out first, so after a start or a restart
/// most partitions can be led by one node, which then does most of the cluster's work.
///
/// Pure: from this node's view of the leaders, nothing else. A node hands a partition only
/// to one of its replicas leading at least two partitions fewer than itself, so every
/// transfer narrows a gap and two nodes never trade a partition back and forth. Rounds repeat
/// until no node leads two more partitions than a replica it shares one with; nothing moves
/// while a partition has no known leader (an election is under way).
enum LeaderBalance {
    struct Transfer: Equatable {
        let partition: PartitionID
        let target: NodeID
    }

    /// This round's transfers for node `me`, in order: each time, one of the partitions it
    /// leads goes to its replica leading the fewest partitions, while that replica leads at
    /// least two fewer, counting the transfers planned before it. `leaders[p]` is the leader
    /// of partition p as this node believes (`.none`: unknown).
    static func plan(me: NodeID, leaders: [NodeID], replicas: (PartitionID) -> [NodeID]) -> [Transfer] {
        guard !leaders.isEmpty, !leaders.contains(.none) else { return [] }
        var led: [NodeID: Int] = [:]
        for leader in leaders { led[leader, default: 0] += 1 }
        var mine = (0..<leaders.count).filter { leaders[$0] == me }.map { PartitionID(UInt32($0)) }
        var transfers: [Transfer] = []
        while true {
            // The partition whose least busy replica is the least busy of all (lowest ids on ties).
            var best: (index: Int, target: NodeID, leads: Int)?
            for (index, partition) in mine.enumerated() {
                guard let target = replicas(partition).filter({ $0 != me })
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
        for transfer in LeaderBalance.plan(me: node, leaders: router.leaders.all(), replicas: placement.replicas(of:)) {
            guard let replica = replicas[transfer.partition] else { continue }
            handOver(replica, to: transfer)
        }
    }

    private func handOver(_ replica: PartitionReplica, to transfer: LeaderBalance.Transfer) {
        replica.loop.execute { [self] in
            let raft = replica.raft
            guard replica.isLeader, replica.appliedOwnTerm, raft.leadershipTransferee == .none,
                  raft.hasHeardRecently(from: transfer.target),
                  let match = raft.matchIndex(of: transfer.target), match >= raft.commitIndex else { return }
            do {
                try raft.transferLeadership(to: transfer.target)
            } catch {
                logger.debug("leadership not handed over", metadata: ["partition": "\(transfer.partition)", "error": "\(error)"])
                return
            }
            metrics.increment(.leaderTransfers)
            logger.info("handing over leadership to balance the nodes",
                        metadata: ["partition": "\(transfer.partition)", "to": "\(transfer.target)"])
            replica.scheduleReady()
        }
    }
}
