/// A point on a monotonic clock, in nanoseconds since an arbitrary origin (boot, or zero in
/// tests). Rate limits, breakers and retry budgets measure intervals with it; it never goes
/// backwards on a real clock, and the decisions tolerate it going backwards anyway (an
/// out-of-order reading from another thread counts as no time passing).
public struct MonotonicInstant: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    public static let zero = MonotonicInstant(nanoseconds: 0)

    public static func milliseconds(_ ms: UInt64) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: ms.multipliedSaturating(by: 1_000_000))
    }

    public static func < (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    /// This instant moved forward by `nanoseconds`, saturating instead of wrapping.
    public func advanced(byNanoseconds delta: UInt64) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: nanoseconds.addedSaturating(delta))
    }

    public func advanced(byMilliseconds ms: UInt64) -> MonotonicInstant {
        advanced(byNanoseconds: ms.multipliedSaturating(by: 1_000_000))
    }

    public func advanced(by duration: Duration) -> MonotonicInstant {
        advanced(byNanoseconds: duration.wholeNanoseconds)
    }

    /// Nanoseconds from `earlier` to this instant; zero when `earlier` is not earlier.
    public func nanoseconds(since earlier: MonotonicInstant) -> UInt64 {
        nanoseconds > earlier.nanoseconds ? nanoseconds - earlier.nanoseconds : 0
    }

    public var description: String { "\(nanoseconds)ns" }
}

/// Milliseconds since the Unix epoch: the wall-clock time tokens carry, so that every node
/// (and an operator reading a token) agrees on when it expires.
public struct UnixMillis: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64

    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    public static func < (lhs: UnixMillis, rhs: UnixMillis) -> Bool { lhs.rawValue < rhs.rawValue }

    public func adding(milliseconds ms: UInt64) -> UnixMillis { UnixMillis(rawValue.addedSaturating(ms)) }

    public var description: String { "\(rawValue)ms" }
}

extension UInt64 {
    func addedSaturating(_ other: UInt64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }

    func multipliedSaturating(by other: UInt64) -> UInt64 {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? .max : product
    }

    /// `self / divisor` rounded up; `divisor` must be positive.
    func dividedRoundingUp(by divisor: UInt64) -> UInt64 {
        precondition(divisor > 0, "division by zero")
        let (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        return remainder == 0 ? quotient : quotient + 1
    }
}

extension Duration {
    /// The duration in whole nanoseconds, clamped to 0...UInt64.max (negative durations are 0).
    var wholeNanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        let nanos = UInt64(seconds).multipliedSaturating(by: 1_000_000_000)
        return nanos.addedSaturating(UInt64(max(0, attoseconds) / 1_000_000_000))
    }
}
