#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// `cartd --batch-scheduling` (the default; `--no-batch-scheduling` turns it off): runs the
/// node's threads under Linux's `SCHED_BATCH` policy,
/// the same share of the CPU as the default policy (same nice value, no privileges needed),
/// but a thread that wakes up does not preempt the one running. A node's threads wake each
/// other thousands of times a second (the journal thread after each sync, the event loops
/// on each message); where nodes and their load share few cores, each wake-up cuts into a
/// running event loop (~3,000 involuntary context switches a second per loop at 64 addItem
/// clients, 3 nodes on 2 cores). With the policy a loop finishes what it read first, and
/// more work shares each syscall, sync and message: +10 % addItem ops/s and a lower p99
/// there. The cost: a woken loop also waits for any CPU-bound thread on its core (a
/// restarted node rebuilding its state, a large snapshot being encoded, another program)
/// until the scheduler's tick, so latency grows while one runs (README).
///
/// Applied at start to every thread the process has; threads made later inherit it.
enum BatchScheduling {
    /// Switches every current thread; returns how many were switched, or the `errno` of the
    /// first refusal (the rest keep their policy too).
    static func apply() -> Result<Int, POSIXError> {
        #if os(Linux)
        let policy: Int32 = 3  // SCHED_BATCH, <linux/sched.h>
        var switched = 0
        // Twice: a thread may start while the first pass runs (it inherits from its creator,
        // which may not have been switched yet).
        for _ in 0..<2 {
            guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { break }
            switched = 0
            for task in tasks {
                guard let tid = Int32(task) else { continue }
                var parameters = sched_param(sched_priority: 0)
                guard sched_setscheduler(tid, policy, &parameters) == 0 else {
                    return .failure(POSIXError(POSIXErrorCode(rawValue: errno) ?? .EPERM))
                }
                switched += 1
            }
        }
        return .success(switched)
        #else
        return .failure(POSIXError(.ENOTSUP))
        #endif
    }
}
