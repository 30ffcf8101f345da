#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the node reads the time it passes into the gateway's decisions. The decisions never
/// read a clock themselves, so tests drive them with a manual clock and the same code runs.
public protocol GatewayClock: Sendable {
    /// For intervals: rate limits, breaker windows, retry budgets.
    func monotonicNow() -> MonotonicInstant
    /// For token issue and expiry times, which must mean the same on every node.
    func wallNow() -> UnixMillis
}

/// The operating system's clocks: `CLOCK_MONOTONIC` and `CLOCK_REALTIME`.
public struct SystemGatewayClock: GatewayClock {
    public init() {}

    public func monotonicNow() -> MonotonicInstant {
        MonotonicInstant(nanoseconds: Self.read(CLOCK_MONOTONIC))
    }

    public func wallNow() -> UnixMillis {
        UnixMillis(Self.read(CLOCK_REALTIME) / 1_000_000)
    }

    private static func read(_ clock: clockid_t) -> UInt64 {
        var spec = timespec()
        let result = clock_gettime(clock, &spec)
        precondition(result == 0, "clock_gettime failed")
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}
