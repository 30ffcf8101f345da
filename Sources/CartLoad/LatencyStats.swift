import Histogram

/// Latencies of successful calls (HdrHistogram, nanoseconds, 3 significant digits) and the
/// count of failed ones, for one connection or merged over all.
public struct LatencyStats: Sendable {
    /// Largest latency the histogram tracks: two minutes, far beyond any sane call.
    static let latencyNanosMax: UInt64 = 120_000_000_000

    public private(set) var histogram = Histogram<UInt64>(
        lowestDiscernibleValue: 1, highestTrackableValue: LatencyStats.latencyNanosMax, numberOfSignificantValueDigits: .three)
    public private(set) var calls: UInt64 = 0
    public var errors: UInt64 = 0

    public init() {}

    mutating func record(nanos: UInt64) {
        _ = histogram.record(min(max(nanos, 1), Self.latencyNanosMax))
        calls += 1
    }

    public mutating func merge(_ other: LatencyStats) {
        histogram.add(other.histogram)
        calls += other.calls
        errors += other.errors
    }

    func micros(atPercentile percentile: Double) -> Double? {
        calls == 0 ? nil : Double(histogram.valueAtPercentile(percentile)) / 1_000
    }

    var maxMicros: Double? { calls == 0 ? nil : Double(histogram.max) / 1_000 }
}

/// The outcome of one load run: what `--json` prints, in the anchors' format.
public struct LoadReport: Sendable {
    public let stats: LatencyStats
    public let seconds: Double

    public var callsPerSecond: Double { Double(stats.calls) / seconds }

    /// One line: `{"calls":..,"seconds":..,"calls_per_s":..,"p50_us":..,"p99_us":..,"p999_us":..,"max_us":..,"errors":..}`.
    public var json: String {
        func number(_ value: Double?) -> String { value.map(Self.format) ?? "null" }
        return "{\"calls\":\(stats.calls),\"seconds\":\(Self.format(seconds)),\"calls_per_s\":\(Self.format(callsPerSecond)),"
            + "\"p50_us\":\(number(stats.micros(atPercentile: 50))),\"p99_us\":\(number(stats.micros(atPercentile: 99))),"
            + "\"p999_us\":\(number(stats.micros(atPercentile: 99.9))),\"max_us\":\(number(stats.maxMicros)),"
            + "\"errors\":\(stats.errors)}"
    }

    /// A few lines for people.
    public var summary: String {
        func us(_ value: Double?) -> String { value.map { "\(Self.format($0)) µs" } ?? "-" }
        return """
            calls      \(stats.calls) in \(Self.format(seconds)) s (\(Self.format(callsPerSecond)) calls/s), errors \(stats.errors)
            latency    p50 \(us(stats.micros(atPercentile: 50)))  p99 \(us(stats.micros(atPercentile: 99)))  \
            p99.9 \(us(stats.micros(atPercentile: 99.9)))  max \(us(stats.maxMicros))
            """
    }

    /// One decimal, without a trailing `.0` (as the anchors print).
    static func format(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int64(rounded)) : String(rounded)
    }
}
