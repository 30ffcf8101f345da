import CartRaft
import CartTypes

extension CartNode {
    /// `/metrics`: the node's counters, per-partition Raft gauges and gateway counters.
    /// `/health`: 200 when every hosted partition knows a leader, else 503.
    func metricsPage(_ path: String, services: NodeServices, gateway: ClientGateway) async -> (status: Int, body: String) {
        // One trip to each replica's loop for the gauges of both pages. Only numbers leave the
        // loop: a copy of the dedup window held here would make the replica's next write copy it.
        let read = try? await services.onEveryReplica(on: services.eventLoopGroup.next()) { replica in
            (replica.status, replica.linksPendingCount, (entries: replica.state.dedup.count, forgottenEarly: replica.state.dedup.forgottenEarly))
        }.get()
        let statuses = read?.map(\.0) ?? []
        switch path {
        case "/health":
            let leaderless = statuses.filter { $0.leader == .none }.map(\.partition.description)
            return leaderless.isEmpty ? (200, "ok node=\(configuration.nodeID)\n")
                : (503, "no leader for \(leaderless.joined(separator: ","))\n")
        case "/metrics":
            let family = NodeMetrics.family
            var text = metrics.prometheusText()
            text += family("cart_storage_syncs_total", "counter", "fdatasync calls of this node's partition logs.")
            text += "cart_storage_syncs_total \(services.storageSyncs())\n"
            if let journal = services.journal?.currentStatistics {
                let longest = Double(journal.longestSyncMicros) / 1e6
                text += family("cart_storage_journal_slow_syncs_total", "counter", "Journal syncs that took 100 ms or more.")
                text += "cart_storage_journal_slow_syncs_total \(journal.slowSyncs)\n"
                text += family("cart_storage_journal_sync_longest_seconds", "gauge", "The longest journal sync since the node started.")
                text += "cart_storage_journal_sync_longest_seconds \(longest)\n"
            }
            text += family("cart_partition_leader", "gauge", "1 when this node leads the partition.")
            text += family("cart_partition_term", "gauge", "The partition's Raft term on this node.")
            text += family("cart_partition_commit_index", "gauge", "The partition's commit index on this node.")
            text += family("cart_partition_applied_index", "gauge", "The partition's applied index on this node.")
            for status in statuses {
                let label = "{partition=\"\(status.partition.rawValue)\"}"
                text += "cart_partition_leader\(label) \(status.role == .leader ? 1 : 0)\n"
                text += "cart_partition_term\(label) \(status.term.rawValue)\n"
                text += "cart_partition_commit_index\(label) \(status.commitIndex.rawValue)\n"
                text += "cart_partition_applied_index\(label) \(status.appliedIndex.rawValue)\n"
            }
            text += family("cart_partition_links_pending", "gauge", "User-cart links the partition still has to deliver.")
            for (status, pending, _) in read ?? [] {
                text += "cart_partition_links_pending{partition=\"\(status.partition.rawValue)\"} \(pending)\n"
            }
            // The request dedup window (CartDomain `DedupWindow`): its keys, and the keys its
            // capacity forgot while younger than the retention (since the replica started or
            // last restored a snapshot). A growing count means retries may apply twice.
            text += family("cart_partition_dedup_entries", "gauge", "Request outcomes the partition remembers for retries.")
            text += family("cart_partition_dedup_forgotten_early_total", "counter",
                           "Outcomes forgotten by the window's capacity before its retention: their retries would apply again.")
            for (status, _, dedup) in read ?? [] {
                let label = "{partition=\"\(status.partition.rawValue)\"}"
                text += "cart_partition_dedup_entries\(label) \(dedup.entries)\n"
                text += "cart_partition_dedup_forgotten_early_total\(label) \(dedup.forgottenEarly)\n"
            }
            let limiter = gateway.limiter.counters
            text += family("cart_gateway_ratelimit_allowed_total", "counter", "Client calls the rate limiter let through.")
            text += "cart_gateway_ratelimit_allowed_total \(limiter.allowed)\n"
            text += family("cart_gateway_ratelimit_limited_user_total", "counter", "Calls refused by their user's token bucket.")
            text += "cart_gateway_ratelimit_limited_user_total \(limiter.limitedUser)\n"
            text += family("cart_gateway_ratelimit_limited_node_total", "counter", "Calls refused by the node's token bucket.")
            text += "cart_gateway_ratelimit_limited_node_total \(limiter.limitedNode)\n"
            let breakers = services.router.guards.breakers.counters
            text += family("cart_gateway_breaker_rejected_total", "counter", "Calls to peers refused by an open circuit breaker.")
            text += "cart_gateway_breaker_rejected_total \(breakers.rejected)\n"
            text += family("cart_gateway_breaker_opened_total", "counter", "Times a peer's circuit breaker opened.")
            text += "cart_gateway_breaker_opened_total \(breakers.opened)\n"
            return (200, text)
        default:
            return (404, "try /metrics or /health\n")
        }
    }
}
