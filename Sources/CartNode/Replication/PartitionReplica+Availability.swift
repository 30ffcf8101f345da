import CartAPI
import CartDomain
import CartRaft
import CartRPC
import CartTypes
import NIOCore

// The availability check of a cart write at the cart's leader (`PartitionState.checkAvailability`).

extension PartitionReplica {
    /// Proposes a line's addition or quantity change (`command`, made from the item) unless it
    /// would grow the line beyond the item's stock (`PartitionState.checkAvailability`:
    /// refused with `insufficientStock`, nothing logged). `cached` is the node's copy of the
    /// item; without one, `lookUp` fetches it (from the item's leader). On this loop.
    ///
    /// A refusal is only ever advice, and must never contradict the log:
    /// - it is confirmed by a leader: the check runs again after a ReadIndex round, on state
    ///   that holds everything committed before (a deposed or brand-new leader's applied state
    ///   may lack a previous attempt of the same request);
    /// - a request whose key has another attempt here, being checked or proposed, is a retry:
    ///   it goes to the log, which answers it as the first attempt.
    func propose(request: RequestKey, item cached: Item?, lookUp: @escaping () -> EventLoopFuture<Item>,
                 _ command: @escaping (Item) -> Command) -> EventLoopFuture<CommandOutcome> {
        loop.assertInEventLoop()
        // The load's items, and most catalogues: a stock no line can exceed. No bookkeeping.
        if let cached, !state.availabilityMayRefuse(cached) { return propose(command(cached), request: request) }
        keysBeingChecked[request, default: 0] += 1
        let item = cached.map { loop.makeSucceededFuture($0) } ?? lookUp()
        let outcome = item.flatMap { [self] (item: Item) -> EventLoopFuture<CommandOutcome> in
            let command = command(item)
            do throws(DomainError) {
                try state.checkAvailability(of: item, for: command, request: request)
                return propose(command, request: request)
            } catch {
                guard !isRetry(request) else { return propose(command, request: request) }
            }
            return readLinearizable { (state) throws(RPCError) -> DomainError? in
                do throws(DomainError) {
                    try state.checkAvailability(of: item, for: command, request: request)
                    return nil
                } catch {
                    return error
                }
            }.flatMap { [self] refusal in
                guard let refusal, !isRetry(request) else { return propose(command, request: request) }
                metrics.increment(.availabilityRefusals)
                return loop.makeFailedFuture(refusal.rpcError)
            }
        }
        outcome.whenComplete { [self] _ in
            if let held = keysBeingChecked[request], held > 1 { keysBeingChecked[request] = held - 1 } else { keysBeingChecked[request] = nil }
        }
        return outcome
    }

    /// Whether another attempt under `request`'s key is here: being checked for availability
    /// (besides the one asking), or proposed and waiting to be applied.
    private func isRetry(_ request: RequestKey) -> Bool {
        (keysBeingChecked[request] ?? 0) > 1 || pending.values.contains { $0.request == request }
    }
}
