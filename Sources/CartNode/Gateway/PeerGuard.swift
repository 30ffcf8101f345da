import CartGateway
import CartRPC
import CartTypes
import CartWire
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// What stands between a forwarded call and a peer: the peer's circuit breaker (fail fast
/// with `unavailable` + retry-after while the peer looks sick) and its concurrency cap
/// (at most `activeRequestsMax` calls in flight and `pendingRequestsMax` waiting; beyond
/// that `unavailable` + retry-after), so one slow peer cannot absorb the node's memory.
final class PeerGuard: Sendable {
    static let overflowRetryAfterMs: UInt64 = 50

    let breakers: BreakerRegistry
    let admission: PeerAdmission
    private let clock = SystemGatewayClock()

    /// A waiting call's place: parked with the promise that resumes it, or promoted by a
    /// completing call before it had parked (the admission and the parking are two steps, and
    /// a call finishing on another loop can promote it in between).
    private enum Waiter {
        case parked(EventLoopPromise<Void>)
        case promotedBeforeParking
    }

    /// Permits are numbered per peer, so a waiting call is named by both.
    private struct WaiterKey: Hashable {
        let peer: NodeID
        let permit: AdmissionPermit
    }

    /// Calls waiting for a slot, resumed when an active call to the same peer completes.
    private let waiting = NIOLockedValueBox([WaiterKey: Waiter]())
    /// Tests: runs between a call's admission as pending and its parking.
    private let beforeParking: (@Sendable () -> Void)?

    init(logger: Logger, activeRequestsMax: Int = 4_096, pendingRequestsMax: Int = 4_096,
         beforeParking: (@Sendable () -> Void)? = nil) throws(NodeError) {
        do {
            breakers = BreakerRegistry(configuration: try CircuitBreaker.Configuration(), logger: logger)
            admission = PeerAdmission(limits: try ConcurrencyGate.Limits(activeRequestsMax: activeRequestsMax,
                                                                         pendingRequestsMax: pendingRequestsMax))
        } catch {
            throw NodeError(.configuration, "peer guard: \(error)")
        }
        self.beforeParking = beforeParking
    }

    /// Runs `call` against `peer` if its breaker and cap allow, recording the outcome.
    func guarded<T: Sendable>(_ peer: NodeID, on loop: any EventLoop, _ call: @escaping @Sendable () -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        let permit: BreakerPermit
        switch breakers.admit(peer: peer, now: clock.monotonicNow()) {
        case .rejected(let retryAfterMs):
            return loop.makeFailedFuture(GuardRefusal(RPCError(.unavailable, "circuit to node \(peer) is open",
                                                               retryAfterMs: retryAfterMs)))
        case .allowed(let allowed):
            permit = allowed
        }
        let slot: EventLoopFuture<AdmissionPermit>
        switch admission.admit(peer: peer) {
        case .active(let admitted):
            slot = loop.makeSucceededFuture(admitted)
        case .pending(let queued):
            beforeParking?()
            let promise = loop.makePromise(of: Void.self)
            let key = WaiterKey(peer: peer, permit: queued)
            let promoted = waiting.withLockedValue { waiting -> Bool in
                if case .promotedBeforeParking? = waiting.removeValue(forKey: key) { return true }
                waiting[key] = .parked(promise)
                return false
            }
            if promoted { promise.succeed() }
            slot = promise.futureResult.map { queued }
        case .overflow:
            breakers.record(peer: peer, permit, succeeded: true, now: clock.monotonicNow())
            return loop.makeFailedFuture(GuardRefusal(RPCError(.unavailable, "too many calls in flight to node \(peer)",
                                                               retryAfterMs: Self.overflowRetryAfterMs)))
        }
        return slot.flatMap { admitted in
            call().always { [self] result in
                breakers.record(peer: peer, permit, succeeded: Self.peerWasHealthy(result), now: clock.monotonicNow())
                if let next = admission.complete(peer: peer, admitted) {
                    let key = WaiterKey(peer: peer, permit: next)
                    let parked = waiting.withLockedValue { waiting -> EventLoopPromise<Void>? in
                        if case .parked(let promise)? = waiting.removeValue(forKey: key) { return promise }
                        waiting[key] = .promotedBeforeParking
                        return nil
                    }
                    parked?.succeed()
                }
            }
        }
    }

    /// A new connection to `peer` completed its handshake: an open breaker probes it now
    /// rather than at the end of its open time (`BreakerRegistry.peerAnswers`).
    func peerAnswers(_ peer: NodeID) {
        breakers.peerAnswers(peer, now: clock.monotonicNow())
    }

    /// An answer (even a refusal) means the peer works; silence, timeouts and internal
    /// failures count against it.
    static func peerWasHealthy<T>(_ result: Result<T, any Error>) -> Bool {
        guard case .failure(let error) = result else { return true }
        guard let rpc = error as? RPCError else { return false }
        return ![ErrorCode.unavailable, .deadlineExceeded, .internal, .goingAway, .cancelled].contains(rpc.code)
    }
}

/// A call the guard refused without trying: the router answers it at once instead of
/// waiting and retrying (failing fast is the point of an open breaker).
struct GuardRefusal: Error {
    let error: RPCError
    init(_ error: RPCError) { self.error = error }
}
