import CartAPI
import CartRaft
import CartRPC
import CartTypes
import NIOCore

// Cluster.status and Cluster.health: this node's view of every partition it hosts.

extension NodeServices {
    func registerClusterService(_ table: MethodTable) {
        table.add(.clusterStatus, clientPort: true) { [self] _, _, loop in
            partitionStatuses(on: loop).map { [self] statuses in
                ClusterStatusReply(node: node, nodes: members.map { NodeAddress(node: $0.id, clientAddress: $0.clientAddress) },
                                   partitionCount: placement.map.partitionCount, partitions: statuses)
            }
        }
        table.add(.clusterHealth, clientPort: true) { [self] _, _, loop in
            partitionStatuses(on: loop).map { [self] statuses in
                let withLeader = statuses.filter { $0.leader != .none }.count
                let led = statuses.filter { $0.role == .leader }.count
                var reply = HealthReply(node: node, ready: withLeader == statuses.count, partitionsHosted: UInt32(statuses.count),
                                        partitionsWithLeader: UInt32(withLeader), partitionsLed: UInt32(led))
                reply.storageSyncs = storageSyncs()
                reply.entriesCommitted = metrics.value(.entriesCommitted)
                reply.entriesApplied = metrics.value(.entriesApplied)
                return reply
            }
        }
    }

    /// `fdatasync` calls of group commit since start, summed over this node's partition logs
    /// and its journal (statistics are read under their own locks, from any thread).
    func storageSyncs() -> UInt64 {
        replicas.values.reduce(journal?.currentStatistics.dataSyncs ?? 0) { $0 + $1.storage.log.statistics.dataSyncs }
    }

    func partitionStatuses(on loop: any EventLoop) -> EventLoopFuture<[PartitionStatus]> {
        let futures = replicas.keys.sorted().map { partition in
            let replica = replicas[partition]!
            return replica.loop.submit { replica.status }
        }
        return EventLoopFuture.whenAllSucceed(futures, on: loop)
    }

    /// Per hosted partition, the user links and unlinks its carts still owe (Saga.md): on a
    /// leader, what it will re-send if they stay pending.
    func pendingLinkCounts(on loop: any EventLoop) -> EventLoopFuture<[(PartitionID, Int)]> {
        let futures = replicas.keys.sorted().map { partition in
            let replica = replicas[partition]!
            return replica.loop.submit { (partition, replica.state.linksPending.values.reduce(0) { $0 + $1.count }) }
        }
        return EventLoopFuture.whenAllSucceed(futures, on: loop)
    }
}

extension PartitionReplica {
    var status: PartitionStatus {
        PartitionStatus(partition: partition, replicas: replicas, role: raft.currentRole, leader: raft.leaderHint,
                        term: raft.currentTerm, commitIndex: raft.commitIndex, appliedIndex: appliedIndex,
                        lastIndex: raft.lastIndex, snapshotIndex: storage.snapshotMetadata.index)
    }
}
