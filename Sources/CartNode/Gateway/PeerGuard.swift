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
    /// Calls waiting for a slot, by permit, resumed when an active call completes.
    private let waiting = NIOLockedValueBox([AdmissionPermit: EventLoopPromise<Void>]())

    init(logger: Logger) throws(NodeError) {
        do {
            breakers = BreakerRegistry(configuration: try CircuitBreaker.Configuration(), logger: logger)
            admission = PeerAdmission(limits: try ConcurrencyGate.Limits(activeRequestsMax: 4_096, pendingRequestsMax: 4_096))
        } catch {
            throw NodeError(.configuration, "peer guard: \(error)")
        }
    }

    /// Runs `call` against `peer` if its breaker and cap allow, recording the outcome.
    func guarded<T>(_ peer: NodeID, on loop: any EventLoop, _ call: @escaping @Sendable () -> EventLoopFuture<T>) -> EventLoopFuture<T> {
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
            let promise = loop.makePromise(of: Void.self)
            waiting.withLockedValue { $0[queued] = promise }
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
                    waiting.withLockedValue { $0.removeValue(forKey: next) }?.succeed()
                }
            }
        }
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
