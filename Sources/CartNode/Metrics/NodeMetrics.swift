import Atomics

/// The node's counters, incremented from any loop without locks and read by `/metrics`.
/// Names are dotted; the Prometheus text replaces dots with underscores.
final class NodeMetrics: Sendable {
    enum Counter: Int, CaseIterable {
        case proposals, proposalsFailed, entriesCommitted, entriesApplied, readsLinearizable, leaderTransfers
        case forwardedCalls, forwardedCallsFailed
        case raftBatchesSent, raftMessagesSent, raftMessagesDropped, raftSnapshotsUndelivered
        case raftSnapshotsSent, raftSnapshotChunksSent, raftSnapshotChunksReceived, raftSnapshotsReceived
        case raftAppendsSent, raftEmptyAppendsSent, raftEntriesSent
        case watchStreamsOpened, watchResyncs, watchHistoryTruncated, watchItemsDirect
        case snapshotsTaken, snapshotsInstalled, snapshotsDecodedOffLoop, snapshotDecodes
        case checkoutsResumed, checkoutSettlementsRefused, linksResent
        case loopStalls

        var name: String {
            switch self {
            case .proposals: "raft.proposals"
            case .proposalsFailed: "raft.proposals.failed"
            case .entriesCommitted: "raft.entries.committed"
            case .entriesApplied: "raft.entries.applied"
            case .readsLinearizable: "raft.reads.linearizable"
            case .leaderTransfers: "raft.leader_transfers"
            case .forwardedCalls: "router.forwarded"
            case .forwardedCallsFailed: "router.forwarded.failed"
            case .raftBatchesSent: "transport.raft.batches"
            case .raftMessagesSent: "transport.raft.messages"
            case .raftMessagesDropped: "transport.raft.messages.dropped"
            case .raftSnapshotsUndelivered: "transport.raft.snapshots.undelivered"
            case .raftSnapshotsSent: "transport.raft.snapshots.sent"
            case .raftSnapshotChunksSent: "transport.raft.snapshot_chunks.sent"
            case .raftSnapshotChunksReceived: "transport.raft.snapshot_chunks.received"
            case .raftSnapshotsReceived: "transport.raft.snapshots.received"
            case .raftAppendsSent: "transport.raft.appends"
            case .raftEmptyAppendsSent: "transport.raft.appends.empty"
            case .raftEntriesSent: "transport.raft.entries"
            case .watchStreamsOpened: "sync.watch.opened"
            case .watchResyncs: "sync.watch.resyncs"
            case .watchHistoryTruncated: "sync.watch.history_truncated"
            case .watchItemsDirect: "sync.watch.items_direct"
            case .snapshotsTaken: "storage.snapshots.taken"
            case .snapshotsInstalled: "storage.snapshots.installed"
            case .snapshotsDecodedOffLoop: "storage.snapshots.decoded_off_loop"
            case .snapshotDecodes: "storage.snapshots.decodes"
            case .checkoutsResumed: "saga.checkouts.resumed"
            case .linksResent: "saga.links.resent"
            case .checkoutSettlementsRefused: "saga.settlements.refused"
            case .loopStalls: "loop.stalls"
            }
        }
    }

    private let values: [ManagedAtomic<UInt64>] = Counter.allCases.map { _ in ManagedAtomic(0) }

    func increment(_ counter: Counter, by amount: UInt64 = 1) {
        values[counter.rawValue].wrappingIncrement(by: amount, ordering: .relaxed)
    }

    func value(_ counter: Counter) -> UInt64 {
        values[counter.rawValue].load(ordering: .relaxed)
    }

    /// Every counter as Prometheus text (`cart_raft_proposals_total 42`).
    func prometheusText() -> String {
        Counter.allCases.map { counter in
            let name = "cart_" + String(counter.name.map { $0 == "." ? "_" : $0 }) + "_total"
            return "# TYPE \(name) counter\n\(name) \(value(counter))\n"
        }.joined()
    }
}
