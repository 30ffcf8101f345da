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
                                   partitionCount: placement.map.partitionCount, partitions: statuses,
                                   placement: placement.partitions.map { PartitionReplicas(partition: $0, replicas: placement.replicas(of: $0)) })
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
                if let journal = journal?.currentStatistics {
                    reply.journalSlowSyncs = journal.slowSyncs
                    reply.journalLongestSyncMicros = journal.longestSyncMicros
                }
                reply.loopStalls = metrics.value(.loopStalls)
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
        onEveryReplica(on: loop) { $0.status }
    }

    /// `read` of every hosted partition's replica, on its loop, by partition.
    func onEveryReplica<T: Sendable>(on loop: any EventLoop, _ read: @escaping @Sendable (PartitionReplica) -> T) -> EventLoopFuture<[T]> {
        let futures = replicas.keys.sorted().map { partition in
            let replica = replicas[partition]!
            return replica.loop.submit { read(replica) }
        }
        return EventLoopFuture.whenAllSucceed(futures, on: loop)
    }
}

extension PartitionReplica {
    /// The user links and unlinks this partition's carts still owe (Saga.md): on a leader,
    /// what it will re-send if they stay pending.
    var linksPendingCount: Int { state.linksPending.values.reduce(0) { $0 + $1.count } }

    var status: PartitionStatus {
        PartitionStatus(partition: partition, replicas: replicas, role: raft.currentRole, leader: raft.leaderHint,
                        term: raft.currentTerm, commitIndex: raft.commitIndex, appliedIndex: appliedIndex,
                        lastIndex: raft.lastIndex, snapshotIndex: storage.snapshotMetadata.index)
    }
}
