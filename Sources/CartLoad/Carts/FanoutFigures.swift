/// What `watch-fanout` measured: delivery latency of each change to each watcher, and
/// whether every watcher received every change exactly once, in order.
public struct FanoutFigures: Sendable {
    public let watchers: Int
    /// Where the watchers were asked to watch (`leader` or `any`).
    public let watchNode: CartLoadOptions.WatchNode
    /// Watchers whose stream was open on the partition leader at the end.
    public let watchersOnLeader: Int
    /// Changes written and acknowledged while measuring.
    public let changes: Int
    /// Seqs every watcher had to receive (from its start seq to the last acknowledged one).
    public let seqsExpected: Int
    /// Watchers whose received seqs were exactly the expected ones, each once, ascending.
    public let watchersComplete: Int
    /// Latency from the serving replica's commit (`WatchItem.committedAtMicros`) to the
    /// watcher's receipt, both on the wall clock. On the leader that is the cluster's commit;
    /// on a follower, the moment the follower learned it. Items re-read from history (after a
    /// resume or an overflow) carry no commit time and count from the leader's commit of the
    /// same seq, as the watchers on the leader received it.
    public let fromCommit: LatencyStats
    /// Received items of measured changes with no commit time to count from (re-read, and no
    /// watcher on the leader received that seq live); they are not in `fromCommit`.
    public let withoutCommitTime: Int
    /// Watchers served by a follower, measured from the leader's commit time of the same
    /// seq (as stamped for the watchers on the leader): includes the follower's lag. Empty
    /// unless some watchers are on the leader and some are not.
    public let followersFromLeaderCommit: LatencyStats
    /// Latency from the writer's acknowledgement to the watcher's receipt (0 when the
    /// event arrived before the ack); `beforeAck` counts those.
    public let fromAck: LatencyStats
    /// Latency from the moment the writer sent the change: an upper bound that includes
    /// replication and the fsync.
    public let fromSend: LatencyStats
    public let beforeAck: Int
    public let resumes: Int
    /// Why watchers ended early (empty when none did).
    public let watcherErrors: [String]

    public var everyEventOnceInOrder: Bool { watchersComplete == watchers && seqsExpected > 0 }

    var json: String {
        func number(_ value: Double?) -> String { value.map(CartLoadReport.format) ?? "null" }
        func percentiles(_ name: String, _ stats: LatencyStats) -> String {
            "\"\(name)_p50_us\":\(number(stats.micros(atPercentile: 50))),\"\(name)_p99_us\":\(number(stats.micros(atPercentile: 99))),"
                + "\"\(name)_max_us\":\(number(stats.maxMicros))"
        }
        return "{\"watchers\":\(watchers),\"watch_node\":\"\(watchNode.rawValue)\",\"watchers_on_leader\":\(watchersOnLeader),"
            + "\"changes\":\(changes),\"seqs_expected\":\(seqsExpected),"
            + "\"watchers_complete\":\(watchersComplete),\"every_event_once_in_order\":\(everyEventOnceInOrder),"
            + percentiles("from_commit", fromCommit) + ",\"without_commit_time\":\(withoutCommitTime),"
            + percentiles("follower_from_leader_commit", followersFromLeaderCommit) + ","
            + percentiles("from_ack", fromAck) + ","
            + "\"from_send_p50_us\":\(number(fromSend.micros(atPercentile: 50))),\"from_send_p99_us\":\(number(fromSend.micros(atPercentile: 99))),"
            + "\"before_ack\":\(beforeAck),\"resumes\":\(resumes),\"watcher_errors\":\(watcherErrors.count)}"
    }

    var summary: String {
        func ms(_ value: Double?) -> String { value.map { "\(CartLoadReport.format($0 / 1_000)) ms" } ?? "-" }
        func percentiles(_ stats: LatencyStats) -> String {
            "p50 \(ms(stats.micros(atPercentile: 50))) p99 \(ms(stats.micros(atPercentile: 99))) max \(ms(stats.maxMicros))"
        }
        let followers = followersFromLeaderCommit.calls == 0 ? "" : """

            followers  watchers on followers, from the leader's commit: \(percentiles(followersFromLeaderCommit))
            """
        return """
            fan-out    \(watchers) watchers (--watch-node \(watchNode.rawValue), \(watchersOnLeader) on the leader) × \(changes) measured changes
            from commit \(percentiles(fromCommit)) (\(withoutCommitTime) with no commit time known: left out)\(followers)
            from ack   \(percentiles(fromAck)) (\(beforeAck) arrived before the ack); \
            from send p50 \(ms(fromSend.micros(atPercentile: 50))) p99 \(ms(fromSend.micros(atPercentile: 99)))
            order      \(watchersComplete)/\(watchers) watchers got seqs \(seqsExpected > 0 ? "all \(seqsExpected) (warm-up included)" : "none") \
            exactly once, in order: \(everyEventOnceInOrder ? "yes" : "NO"); resumes \(resumes)\
            \(watcherErrors.isEmpty ? "" : "\nwatchers ended early: " + Set(watcherErrors).sorted().joined(separator: "; "))
            """
    }
}
