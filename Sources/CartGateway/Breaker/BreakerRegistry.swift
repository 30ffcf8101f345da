import CartTypes
import Foundation
import Logging

/// One circuit breaker per peer node, created on first use. State changes are logged (with
/// `peer` metadata), counted, and passed to `onTransition` so the node can export them.
///
/// Peers come from the cluster configuration, so the table is bounded by the cluster size.
///
/// `@unchecked Sendable`: the node calls it from several event loops at once. The breakers
/// and counters are behind `lock` and touched only inside `withLock`; the log line and the
/// callback run after the lock is released, so a slow log handler never holds up other calls.
public final class BreakerRegistry: @unchecked Sendable {
    /// Totals since start, for metrics (`gateway.breaker.*`).
    public struct Counters: Hashable, Sendable {
        public var allowed: UInt64 = 0
        public var rejected: UInt64 = 0
        public var opened: UInt64 = 0
        public var halfOpened: UInt64 = 0
        public var closed: UInt64 = 0
    }

    public typealias TransitionHandler = @Sendable (NodeID, BreakerTransition) -> Void

    public let configuration: CircuitBreaker.Configuration
    private let logger: Logger
    private let onTransition: TransitionHandler?
    private let lock = NSLock()
    private var breakers: [NodeID: CircuitBreaker] = [:]
    private var totals = Counters()

    public init(
        configuration: CircuitBreaker.Configuration,
        logger: Logger = Logger(label: "cart.gateway.breaker"),
        onTransition: TransitionHandler? = nil) {
        self.configuration = configuration
        self.logger = logger
        self.onTransition = onTransition
    }

    public func admit(peer: NodeID, now: MonotonicInstant) -> BreakerDecision {
        let (decision, transition) = lock.withLock {
            let result = withBreaker(for: peer) { $0.admit(now: now) }
            switch result.decision {
            case .allowed: totals.allowed += 1
            case .rejected: totals.rejected += 1
            }
            count(result.transition)
            return result
        }
        report(transition, peer: peer)
        return decision
    }

    public func record(peer: NodeID, _ permit: BreakerPermit, succeeded: Bool, now: MonotonicInstant) {
        let transition = lock.withLock {
            let transition = withBreaker(for: peer) { $0.record(permit, succeeded: succeeded, now: now) }
            count(transition)
            return transition
        }
        report(transition, peer: peer)
    }

    /// The peer answers again (a new connection to it completed its handshake): its breaker,
    /// if open, turns half-open (`CircuitBreaker.peerAnswers`).
    public func peerAnswers(_ peer: NodeID, now: MonotonicInstant) {
        let transition = lock.withLock {
            guard breakers[peer] != nil else { return BreakerTransition?.none }
            let transition = withBreaker(for: peer) { $0.peerAnswers(now: now) }
            count(transition)
            return transition
        }
        report(transition, peer: peer)
    }

    public func state(of peer: NodeID) -> CircuitBreaker.State {
        lock.withLock { breakers[peer]?.state ?? .closed }
    }

    public var counters: Counters { lock.withLock { totals } }

    /// Runs `body` on the peer's breaker in place (through `Dictionary.Values`, which
    /// mutates without copying the breaker's window out and back), creating it on first use.
    private func withBreaker<Result>(for peer: NodeID, _ body: (inout CircuitBreaker) -> Result) -> Result {
        let index = breakers.index(forKey: peer) ?? {
            breakers[peer] = CircuitBreaker(configuration: configuration)
            return breakers.index(forKey: peer)!
        }()
        return body(&breakers.values[index])
    }

    private func count(_ transition: BreakerTransition?) {
        switch transition?.to {
        case .open: totals.opened += 1
        case .halfOpen: totals.halfOpened += 1
        case .closed: totals.closed += 1
        case nil: break
        }
    }

    private func report(_ transition: BreakerTransition?, peer: NodeID) {
        guard let transition else { return }
        let metadata: Logger.Metadata = [
            "peer": "\(peer)",
            "failure_rate_percent": "\(transition.failureRatePercent)",
            "calls_in_window": "\(transition.callsInWindow)",
        ]
        switch transition.to {
        case .open:
            logger.warning("circuit to peer opened: failing fast for \(configuration.openDurationMs) ms", metadata: metadata)
        case .halfOpen:
            logger.info("circuit to peer half-open: sending up to \(configuration.probeCallsMax) probe calls", metadata: metadata)
        case .closed:
            logger.info("circuit to peer closed: probes succeeded", metadata: metadata)
        }
        onTransition?(peer, transition)
    }
}
