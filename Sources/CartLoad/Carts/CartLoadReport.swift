import Foundation

/// The outcome of a `cartload carts` run: throughput, latency percentiles (HdrHistogram), per
/// operation and in total, errors by code, and for `watch-fanout` the delivery figures.
public struct CartLoadReport: Sendable {
    public let mode: String
    public let stats: LatencyStats
    public let byOperation: [String: LatencyStats]
    public let errorsByCode: [String: UInt64]
    /// Errors that were the domain's refusals rather than failures of the cluster.
    public var refused: UInt64 = 0
    /// Attempts sent again after a failed one during the run (warm-up included); their
    /// operations count once, as the success or error they finally had.
    public var retries: UInt64 = 0
    public let seconds: Double
    /// Set by `watch-fanout`.
    public var fanout: FanoutFigures?
    /// Set by `verify`.
    public var verify: VerifyFigures?

    public var opsPerSecond: Double { Double(stats.calls) / seconds }

    /// One JSON line (keys as the anchors' plus the cart-specific ones).
    public var json: String {
        func number(_ value: Double?) -> String { value.map(Self.format) ?? "null" }
        func latency(_ stats: LatencyStats) -> String {
            "\"p50_us\":\(number(stats.micros(atPercentile: 50))),\"p99_us\":\(number(stats.micros(atPercentile: 99))),"
                + "\"p999_us\":\(number(stats.micros(atPercentile: 99.9))),\"max_us\":\(number(stats.maxMicros))"
        }
        let errors = errorsByCode.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",")
        let operations = byOperation.sorted { $0.key < $1.key }.map { name, stats in
            "\"\(name)\":{\"ops\":\(stats.calls),\(latency(stats))}"
        }.joined(separator: ",")
        var line = "{\"mode\":\"\(mode)\",\"ops\":\(stats.calls),\"seconds\":\(Self.format(seconds)),"
            + "\"ops_per_s\":\(Self.format(opsPerSecond)),\(latency(stats)),\"errors\":\(stats.errors),\"refused\":\(refused),\"retries\":\(retries),"
            + "\"errors_by_code\":{\(errors)},\"by_op\":{\(operations)}"
        if let fanout { line += ",\"fanout\":\(fanout.json)" }
        if let verify { line += ",\"verify\":\(verify.json)" }
        return line + "}"
    }

    /// A few lines for people.
    public var summary: String {
        func ms(_ value: Double?) -> String { value.map { "\(Self.format($0 / 1_000)) ms" } ?? "-" }
        func latency(_ stats: LatencyStats) -> String {
            "p50 \(ms(stats.micros(atPercentile: 50)))  p99 \(ms(stats.micros(atPercentile: 99)))  "
                + "p99.9 \(ms(stats.micros(atPercentile: 99.9)))  max \(ms(stats.maxMicros))"
        }
        var lines = ["\(mode): \(stats.calls) ops in \(Self.format(seconds)) s = \(Self.format(opsPerSecond)) ops/s",
                     "latency    \(latency(stats))"]
        for (name, operation) in byOperation.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(name.padding(toLength: 9, withPad: " ", startingAt: 0)) \(operation.calls) ops  \(latency(operation))")
        }
        lines.append("errors     \(stats.errors), of which \(refused) refusals of the domain (its answers, not failures)"
            + (errorsByCode.isEmpty ? "" : "  (by code: "
            + errorsByCode.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"))
        lines.append("retries    \(retries) attempts sent again after a failed one (each operation counted once, by its outcome)")
        if let fanout { lines.append(fanout.summary) }
        if let verify { lines.append(verify.summary) }
        return lines.joined(separator: "\n")
    }

    static func format(_ value: Double) -> String { LoadReport.format(value) }
}
