/// A circuit breaker for calls to one peer node, as a pure state machine:
///
/// - **closed**: calls pass; each outcome enters a window of the last `windowCalls` calls.
///   Once the window holds at least `callsMin` calls and their failure rate reaches
///   `failureRatePercentThreshold`, the breaker opens.
/// - **open**: calls fail fast with a retry-after, for `openDurationMs`. The first call after
///   that moves it to half-open, and so does word that the peer answers again (`peerAnswers`).
/// - **half-open**: at most `probeCallsMax` probe calls pass; the rest fail fast. When all the
///   probes succeed the breaker closes (with an empty window); any probe failure opens it again.
///
/// Caller's contract: every `allowed` permit is reported back exactly once with `record`
/// (a timeout counts as a failure), otherwise a half-open breaker would wait for its probes
/// forever. Outcomes of permits issued before the last state change are ignored: a slow call
/// admitted while closed says nothing about the peer's health after it was probed.
public struct CircuitBreaker: Hashable, Sendable {
    public struct Configuration: Hashable, Sendable {
        public static let windowCallsMax = 10_000

        public var windowCalls: Int
        public var callsMin: Int
        public var failureRatePercentThreshold: Int
        public var openDurationMs: UInt64
        public var probeCallsMax: Int
        /// Retry-after given to calls refused while the probes are out.
        public var halfOpenRetryAfterMs: UInt64

        public init(
            windowCalls: Int = 20, callsMin: Int = 10, failureRatePercentThreshold: Int = 50,
            openDurationMs: UInt64 = 5_000, probeCallsMax: Int = 3, halfOpenRetryAfterMs: UInt64 = 100
        ) throws(BreakerConfigurationError) {
            guard (1...Self.windowCallsMax).contains(windowCalls) else {
                throw BreakerConfigurationError("windowCalls \(windowCalls) outside 1...\(Self.windowCallsMax)")
            }
            guard (1...windowCalls).contains(callsMin) else {
                throw BreakerConfigurationError("callsMin \(callsMin) outside 1...windowCalls (\(windowCalls))")
            }
            guard (1...100).contains(failureRatePercentThreshold) else {
                throw BreakerConfigurationError("failureRatePercentThreshold \(failureRatePercentThreshold) outside 1...100")
            }
            guard openDurationMs > 0, probeCallsMax > 0, halfOpenRetryAfterMs > 0 else {
                throw BreakerConfigurationError("openDurationMs, probeCallsMax and halfOpenRetryAfterMs must be positive")
            }
            self.windowCalls = windowCalls
            self.callsMin = callsMin
            self.failureRatePercentThreshold = failureRatePercentThreshold
            self.openDurationMs = openDurationMs
            self.probeCallsMax = probeCallsMax
            self.halfOpenRetryAfterMs = halfOpenRetryAfterMs
        }
    }

    public enum State: Hashable, Sendable {
        case closed
        case open(until: MonotonicInstant)
        case halfOpen
    }

    public let configuration: Configuration
    public private(set) var state: State = .closed
    private var window: OutcomeWindow
    /// Bumped on every state change; permits from an older epoch are ignored.
    private var epoch: UInt64 = 0
    private var probesAdmitted = 0
    private var probesSucceeded = 0

    public init(configuration: Configuration) {
        self.configuration = configuration
        window = OutcomeWindow(capacity: configuration.windowCalls)
    }

    /// Whether a call may go to the peer now. May move open → half-open.
    public mutating func admit(now: MonotonicInstant) -> (decision: BreakerDecision, transition: BreakerTransition?) {
        var transition: BreakerTransition?
        if case .open(let until) = state {
            guard now >= until else {
                return (.rejected(retryAfterMs: until.nanoseconds(since: now).dividedRoundingUp(by: 1_000_000)), nil)
            }
            transition = change(to: .halfOpen, at: now)
        }
        switch state {
        case .closed:
            return (.allowed(BreakerPermit(epoch: epoch, isProbe: false)), transition)
        case .halfOpen where probesAdmitted < configuration.probeCallsMax:
            probesAdmitted += 1
            return (.allowed(BreakerPermit(epoch: epoch, isProbe: true)), transition)
        case .halfOpen, .open:
            return (.rejected(retryAfterMs: configuration.halfOpenRetryAfterMs), transition)
        }
    }

    /// The outcome of a call admitted with `permit`. May close or open the breaker.
    public mutating func record(_ permit: BreakerPermit, succeeded: Bool, now: MonotonicInstant) -> BreakerTransition? {
        guard permit.epoch == epoch else { return nil }
        switch state {
        case .closed:
            window.record(failure: !succeeded)
            guard window.count >= configuration.callsMin,
                  window.failureRatePercent >= configuration.failureRatePercentThreshold else { return nil }
            return open(at: now)
        case .halfOpen:
            precondition(permit.isProbe, "a half-open breaker only issues probe permits in its epoch")
            guard succeeded else { return open(at: now) }
            probesSucceeded += 1
            guard probesSucceeded == configuration.probeCallsMax else { return nil }
            return change(to: .closed, at: now)
        case .open:
            preconditionFailure("an open breaker issues no permits in its epoch")
        }
    }

    /// Word from outside the calls that the peer answers again (a new connection to it
    /// completed its handshake): an open breaker turns half-open at once, so that the next
    /// calls probe the peer instead of failing fast for the rest of `openDurationMs`. The
    /// probes still decide; a closed or half-open breaker is left as it is.
    public mutating func peerAnswers(now: MonotonicInstant) -> BreakerTransition? {
        guard case .open = state else { return nil }
        return change(to: .halfOpen, at: now)
    }

    private mutating func open(at now: MonotonicInstant) -> BreakerTransition {
        change(to: .open(until: now.advanced(byMilliseconds: configuration.openDurationMs)), at: now)
    }

    private mutating func change(to newState: State, at now: MonotonicInstant) -> BreakerTransition {
        let transition = BreakerTransition(
            from: state, to: newState, failureRatePercent: window.failureRatePercent, callsInWindow: window.count, at: now)
        state = newState
        epoch += 1
        probesAdmitted = 0
        probesSucceeded = 0
        if case .closed = newState { window.reset() }
        if case .open = newState { window.reset() }
        return transition
    }
}

/// Proof that a call was admitted; hand it back with the call's outcome.
public struct BreakerPermit: Hashable, Sendable {
    let epoch: UInt64
    public let isProbe: Bool
}

/// The breaker's answer; `rejected` maps to the wire code `unavailable` with its retry-after.
public enum BreakerDecision: Hashable, Sendable {
    case allowed(BreakerPermit)
    case rejected(retryAfterMs: UInt64)
}

/// A state change, for the log line and the transition counters.
public struct BreakerTransition: Hashable, Sendable {
    public let from: CircuitBreaker.State
    public let to: CircuitBreaker.State
    /// The window's failure rate when the change happened (what tripped a closed breaker).
    public let failureRatePercent: Int
    public let callsInWindow: Int
    public let at: MonotonicInstant
}

public struct BreakerConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    public let code = "breaker.invalid_configuration"
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { "\(code): \(message)" }
}
