/// Exponential backoff with jitter for reconnects: the nominal wait doubles per attempt
/// from `initialMs` up to `maxMs`, and the actual wait is drawn from [½, 1] of it, so
/// clients that lost the same server do not all come back at the same instant.
struct Backoff: Sendable {
    let initialMs: Int64
    let maxMs: Int64

    /// The wait before attempt `attempt + 1` (attempt 0 is the first retry).
    /// `unitRandom` is in [0, 1); passing it in keeps this a pure function for tests.
    func delayMs(attempt: Int, unitRandom: Double) -> Int64 {
        let shift = min(attempt, 30)
        let nominal = min(maxMs, initialMs.multipliedReportingOverflow(by: Int64(1) << shift).overflow
                          ? maxMs : initialMs * (Int64(1) << shift))
        return Int64(Double(nominal) * (0.5 + 0.5 * unitRandom))
    }
}
