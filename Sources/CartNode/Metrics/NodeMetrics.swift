import Atomics

/// The node's counters, incremented from any loop without locks and read by `/metrics`.
/// Names are dotted; the Prometheus text replaces dots with underscores.
final class NodeMetrics: Sendable {
    enum Counter: Int, CaseIterable {
        case proposals, proposalsFailed, entriesCommitted, entriesApplied, readsLinearizable, readsLocal, leaderTransfers, leadersForgotten
        case forwardedCalls, forwardedCallsFailed, callsGivenUp
        case raftBatchesSent, raftMessagesSent, raftMessagesDropped, raftSnapshotsUndelivered
        case raftSnapshotsSent, raftSnapshotChunksSent, raftSnapshotChunksReceived, raftSnapshotsReceived
        case raftAppendsSent, raftEmptyAppendsSent, raftEntriesSent
        case watchStreamsOpened, watchResyncs, watchHistoryTruncated, historyFromRecent, watchItemsDirect
        case snapshotsTaken, snapshotsInstalled, snapshotsDecodedOffLoop, snapshotDecodes
        case checkoutsResumed, checkoutSettlementsRefused, linksResent, availabilityRefusals
        case loopStalls

        var name: String {
            switch self {
            case .proposals: "raft.proposals"
            case .proposalsFailed: "raft.proposals.failed"
            case .entriesCommitted: "raft.entries.committed"
            case .entriesApplied: "raft.entries.applied"
            case .readsLinearizable: "raft.reads.linearizable"
            case .readsLocal: "raft.reads.local"
            case .leaderTransfers: "raft.leader_transfers"
            case .leadersForgotten: "raft.leaders_forgotten"
            case .forwardedCalls: "router.forwarded"
            case .forwardedCallsFailed: "router.forwarded.failed"
            case .callsGivenUp: "router.given_up"
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
            case .historyFromRecent: "sync.history.from_recent"
            case .watchItemsDirect: "sync.watch.items_direct"
            case .snapshotsTaken: "storage.snapshots.taken"
            case .snapshotsInstalled: "storage.snapshots.installed"
            case .snapshotsDecodedOffLoop: "storage.snapshots.decoded_off_loop"
            case .snapshotDecodes: "storage.snapshots.decodes"
            case .checkoutsResumed: "saga.checkouts.resumed"
            case .linksResent: "saga.links.resent"
            case .checkoutSettlementsRefused: "saga.settlements.refused"
            case .availabilityRefusals: "stock.availability_refusals"
            case .loopStalls: "loop.stalls"
            }
        }

        /// The `# HELP` line of the counter's Prometheus family.
        var help: String {
            switch self {
            case .proposals: "Commands proposed to a partition's Raft group on this node."
            case .proposalsFailed: "Proposals that failed (leadership lost, log truncated, storage failure)."
            case .entriesCommitted: "Raft entries this node's replicas learned committed."
            case .entriesApplied: "Raft entries this node's replicas applied to their state."
            case .readsLinearizable: "Reads answered after a ReadIndex round."
            case .readsLocal: "Replica-local reads answered from this node's applied state, without the leader."
            case .leaderTransfers: "Leadership hand-overs this node started (balancing, drain)."
            case .leadersForgotten: "Leaders this node's replicas forgot because the connection to their node closed."
            case .forwardedCalls: "Client calls forwarded to another node's partition leader."
            case .forwardedCallsFailed: "Forwarded calls that failed."
            case .callsGivenUp: "Calls failed at once for the client to take elsewhere: no majority heard, leader silent, no leader in time."
            case .raftBatchesSent: "Batches of Raft messages sent to peers (one frame each)."
            case .raftMessagesSent: "Raft messages sent to peers."
            case .raftMessagesDropped: "Raft messages dropped: peer unreachable, breaker open or queue full (Raft resends)."
            case .raftSnapshotsUndelivered: "Snapshots that did not reach their follower."
            case .raftSnapshotsSent: "Snapshots sent to followers."
            case .raftSnapshotChunksSent: "Snapshot pieces sent."
            case .raftSnapshotChunksReceived: "Snapshot pieces received."
            case .raftSnapshotsReceived: "Whole snapshots received from leaders."
            case .raftAppendsSent: "Append messages sent to followers."
            case .raftEmptyAppendsSent: "Append messages without entries (probes, commit updates)."
            case .raftEntriesSent: "Entries carried by append messages."
            case .watchStreamsOpened: "Watch streams opened on this node."
            case .watchResyncs: "Watch streams that overflowed their buffer and re-read the cart's history."
            case .watchHistoryTruncated: "Watch streams ended because the cart no longer held the next event."
            case .historyFromRecent: "History reads (watches, cart events) served from the recent events, further back than the cart keeps."
            case .watchItemsDirect: "Watch items written straight from the replica's loop."
            case .snapshotsTaken: "Snapshots taken by this node's replicas."
            case .snapshotsInstalled: "Leader snapshots installed by this node's replicas."
            case .snapshotsDecodedOffLoop: "Installed snapshots that were decoded off the replica's loop."
            case .snapshotDecodes: "Leader snapshots decoded."
            case .checkoutsResumed: "Checkout sagas resumed by a new leader."
            case .linksResent: "User-cart links sent again by a new leader."
            case .checkoutSettlementsRefused: "Checkout settlements the cart's partition refused."
            case .availabilityRefusals: "Additions and quantity increases refused before the log: the line would hold more units than the item's stock."
            case .loopStalls: "Event-loop stalls of 250 ms or more."
            }
        }
    }

    /// The `# HELP` and `# TYPE` lines of one Prometheus metric family.
    static func family(_ name: String, _ type: String, _ help: String) -> String {
        "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    private let values: [ManagedAtomic<UInt64>] = Counter.allCases.map { _ in ManagedAtomic(0) }
    /// The client port's calls by method and outcome, with their latencies.
    let calls = CallMetrics()

    func increment(_ counter: Counter, by amount: UInt64 = 1) {
        values[counter.rawValue].wrappingIncrement(by: amount, ordering: .relaxed)
    }

    func value(_ counter: Counter) -> UInt64 {
        values[counter.rawValue].load(ordering: .relaxed)
    }

    /// Every counter as Prometheus text (`cart_raft_proposals_total 42`), then the calls.
    func prometheusText() -> String {
        Counter.allCases.map { counter in
            let name = "cart_" + String(counter.name.map { $0 == "." ? "_" : $0 }) + "_total"
            return Self.family(name, "counter", counter.help) + "\(name) \(value(counter))\n"
        }.joined() + calls.prometheusText()
    }
}
