/// The outcomes of the last `capacity` calls, in a ring: the breaker's sliding window.
/// Count-based rather than time-based, so a quiet peer is judged on as much evidence as a busy one.
struct OutcomeWindow: Hashable, Sendable {
    private var failed: [Bool]
    private var next = 0
    private(set) var count = 0
    private(set) var failures = 0

    init(capacity: Int) {
        precondition(capacity > 0, "window size checked by the configuration")
        failed = Array(repeating: false, count: capacity)
    }

    mutating func record(failure: Bool) {
        if count == failed.count {
            if failed[next] { failures -= 1 }
        } else {
            count += 1
        }
        failed[next] = failure
        if failure { failures += 1 }
        next = (next + 1) % failed.count
    }

    /// Failures as a whole percentage of the calls in the window, rounded down.
    var failureRatePercent: Int { count == 0 ? 0 : failures * 100 / count }

    mutating func reset() {
        for index in failed.indices { failed[index] = false }
        next = 0
        count = 0
        failures = 0
    }
}
