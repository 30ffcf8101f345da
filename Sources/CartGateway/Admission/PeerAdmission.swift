import CartTypes
import Foundation

/// A `ConcurrencyGate` per peer node, shared by every event loop of the node.
///
/// `@unchecked Sendable`: the gates are behind `lock` and touched only inside `withLock`.
public final class PeerAdmission: @unchecked Sendable {
    public let limits: ConcurrencyGate.Limits
    private let lock = NSLock()
    private var gates: [NodeID: ConcurrencyGate] = [:]

    public init(limits: ConcurrencyGate.Limits) {
        self.limits = limits
    }

    public func admit(peer: NodeID) -> Admission {
        lock.withLock { gates[peer, default: ConcurrencyGate(limits: limits)].admit() }
    }

    public func complete(peer: NodeID, _ permit: AdmissionPermit) -> AdmissionPermit? {
        lock.withLock {
            precondition(gates[peer] != nil, "completion for \(peer), which admitted nothing")
            return gates[peer]!.complete(permit)
        }
    }

    public func cancel(peer: NodeID, _ permit: AdmissionPermit) -> Bool {
        lock.withLock { gates[peer]?.cancel(permit) ?? false }
    }

    /// Calls in flight and waiting for `peer`, for metrics.
    public func load(of peer: NodeID) -> (active: Int, pending: Int) {
        lock.withLock { (gates[peer]?.active ?? 0, gates[peer]?.pendingCount ?? 0) }
    }
}
