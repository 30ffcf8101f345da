import CartWire
import Dispatch
import NIOConcurrencyHelpers

/// Outcomes of the run's operations, shared by every worker: latencies of successes per
/// operation and in total (only those started after the warm-up), errors by code, and the
/// counts the once-a-second progress line shows.
final class LoadMeter: Sendable {
    struct State {
        var total = LatencyStats()
        var byOperation: [String: LatencyStats] = [:]
        var errorsByCode: [String: UInt64] = [:]
        /// Of the measured errors, the domain's answers (not found, closed cart, …) that a mix
        /// of random operations is bound to get; the rest are availability or transport failures.
        var refused: UInt64 = 0
        var secondOps: UInt64 = 0
        /// This second's failures, and (apart) its refusals of the domain.
        var secondErrors: UInt64 = 0
        var secondRefused: UInt64 = 0
        var secondStats = LatencyStats()
    }

    let measureStartNanos: UInt64
    let measureEndNanos: UInt64
    private let state = NIOLockedValueBox(State())

    init(measureStartNanos: UInt64, measureEndNanos: UInt64) {
        self.measureStartNanos = measureStartNanos
        self.measureEndNanos = measureEndNanos
    }

    static let refusals: Set<ErrorCode> = [.notFound, .alreadyExists, .failedPrecondition, .invalidArgument,
                                           .versionConflict, .permissionDenied]

    static func nowNanos() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Records one operation that counted from `startNanos` (its intended start in the open loop).
    func record(_ operation: String, startNanos: UInt64, error: ErrorCode?) {
        let end = Self.nowNanos()
        let measured = startNanos >= measureStartNanos && end <= measureEndNanos
        state.withLockedValue { state in
            if let error {
                if Self.refusals.contains(error) { state.secondRefused += 1 } else { state.secondErrors += 1 }
                if measured {
                    state.errorsByCode["\(error)", default: 0] += 1
                    state.total.errors += 1
                    if Self.refusals.contains(error) { state.refused += 1 }
                }
                return
            }
            state.secondOps += 1
            state.secondStats.record(nanos: end - startNanos)
            guard measured else { return }
            state.total.record(nanos: end - startNanos)
            state.byOperation[operation, default: LatencyStats()].record(nanos: end - startNanos)
        }
    }

    /// The last second's counts and p99, reset for the next second. `errors` leaves out the
    /// domain's refusals, counted in `refused`.
    func takeSecond() -> (ops: UInt64, errors: UInt64, refused: UInt64, p99Micros: Double?, maxMicros: Double?) {
        state.withLockedValue { state in
            defer {
                state.secondOps = 0
                state.secondErrors = 0
                state.secondRefused = 0
                state.secondStats = LatencyStats()
            }
            return (state.secondOps, state.secondErrors, state.secondRefused, state.secondStats.micros(atPercentile: 99),
                    state.secondStats.maxMicros)
        }
    }

    var snapshot: State { state.withLockedValue { $0 } }
}
