#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The clock of `WatchItem.committedAtMicros`: microseconds since the Unix epoch from
/// `CLOCK_REALTIME`. The node stamps live watch items with it and a watcher on the same
/// machine reads it on receipt, so the difference is the delivery latency from commit.
/// Across machines the difference also carries their clock offset.
public enum WallClockMicros {
    public static func now() -> UInt64 {
        var spec = timespec()
        let result = clock_gettime(CLOCK_REALTIME, &spec)
        precondition(result == 0, "clock_gettime(CLOCK_REALTIME) failed")
        return UInt64(spec.tv_sec) * 1_000_000 + UInt64(spec.tv_nsec) / 1_000
    }
}
