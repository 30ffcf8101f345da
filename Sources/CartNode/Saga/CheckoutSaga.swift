import CartAPI
import CartDomain
import CartRPC
import CartTypes
import NIOConcurrencyHelpers
import NIOCore

// The checkout saga of CartDomain's Saga.md, coordinated by the cart partition's leader.
// Step 1 (BeginCheckout) is proposed here; steps 2–5 run on the item partitions' leaders
// through `proposeInternal` (local or forwarded). The client is answered after step 3.
// The coordinator keeps no state beyond the sagas it is running: the cart partition's leader
// resumes every unsettled checkout from the cart's CheckoutRecord (`resumeCheckouts`) when it
// becomes the leader and every `checkoutSweepIntervalMs` while it leads. Running one checkout
// twice is safe (every step is idempotent and one log decides), only wasteful, so a sweep
// skips the checkouts this node is already running.

extension NodeServices {
    static let sagaStepRetryPauseMs: Int64 = 100
    static let sagaStepRetryPauseMaxMs: Int64 = 1_000

    func checkout(_ request: CheckoutRequest, actor: UserID, replica: PartitionReplica) -> EventLoopFuture<CheckoutReply> {
        let checkoutID = CheckoutID("co-\(request.request.client.rawValue)-\(request.request.request.rawValue)")
        let begin = Command.beginCheckout(BeginCheckout(cart: request.cart, actor: actor, checkout: checkoutID,
                                                        expectedVersion: request.expectedVersion))
        return replica.propose(begin, request: request.request).flatMapThrowing { outcome in
            _ = try Self.accepted(outcome)
            guard let record = replica.state.carts[request.cart]?.checkout, record.id == checkoutID else {
                throw RPCError(.failedPrecondition, "checkout \(checkoutID) is no longer the cart's current checkout")
            }
            return record
        }.flatMap { [self] record in
            let promise = replica.loop.makePromise(of: CheckoutReply.self)
            sagas.claim(record.id, onlyIfIdle: false)
            promise.completeWithTask {
                try await self.runSaga(cart: request.cart, record: record, replica: replica)
            }
            return promise.futureResult
        }
    }

    /// Resumes the unsettled checkouts of a partition this node leads that no saga of this
    /// node is running. On the replica's loop.
    func resumeCheckouts(_ replica: PartitionReplica) {
        for (cart, record) in replica.state.unsettledCheckouts() where sagas.claim(record.id, onlyIfIdle: true) {
            logger.info("resuming checkout", metadata: ["cart": "\(cart)", "checkout": "\(record.id)"])
            metrics.increment(.checkoutsResumed)
            Task { _ = try? await self.runSaga(cart: cart, record: record, replica: replica) }
        }
    }

    /// Steps 2–5 from wherever `record` stands; returns the client's answer after step 3.
    /// The caller has claimed `record.id` in `sagas`; the claim ends with the saga (after its
    /// settlement, or when it gives up).
    func runSaga(cart: CartID, record: CheckoutRecord, replica: PartitionReplica) async throws -> CheckoutReply {
        var settling = false
        defer { if !settling { sagas.release(record.id) } }
        let cartPartition = placement.partition(of: cart)
        var outcome = record.outcome
        var abortReason: String?
        if outcome == .pending {
            abortReason = try await reserveAll(record)
            let decision: Command = abortReason.map { .abortCheckout(AbortCheckout(cart: cart, checkout: record.id, reason: $0)) }
                ?? .completeCheckout(CompleteCheckout(cart: cart, checkout: record.id))
            let decided = try await sagaStep(decision, partition: cartPartition)
            if case .refused(let error) = decided {
                // Another coordinator decided first; follow its decision (Saga.md: one log decides).
                switch error {
                case .checkoutCompleted: abortReason = nil
                case .checkoutAborted: abortReason = abortReason ?? "checkout was aborted"
                default: throw error.rpcError
                }
            }
            outcome = abortReason == nil ? .completed : .aborted
        }
        let settlement: (Command) = outcome == .completed
            ? .commitReservation(CommitReservation(checkout: record.id))
            : .releaseStock(ReleaseStock(checkout: record.id))
        let reply = try await replyAfterDecision(cart: cart, record: record, replica: replica)
        settling = true
        Task {
            defer { sagas.release(record.id) }
            do {
                for partition in Set(record.lines.map { placement.partition(of: $0.item) }) {
                    _ = try await sagaStep(settlement, partition: partition)
                }
                _ = try await sagaStep(.settleCheckout(SettleCheckout(cart: cart, checkout: record.id)), partition: cartPartition)
            } catch {
                logger.warning("checkout settlement postponed to the next sweep", metadata: ["checkout": "\(record.id)", "error": "\(error)"])
            }
        }
        if let abortReason { throw RPCError(.failedPrecondition, "checkout aborted: \(abortReason)") }
        return reply
    }

    /// Step 2 on every item partition; the first refusal's message, or nil when all reserved.
    private func reserveAll(_ record: CheckoutRecord) async throws -> String? {
        let byPartition = Dictionary(grouping: record.lines) { placement.partition(of: $0.item) }
        var reason: String?
        try await withThrowingTaskGroup(of: String?.self) { group in
            for (partition, lines) in byPartition {
                group.addTask {
                    let outcome = try await self.sagaStep(.reserveStock(ReserveStock(checkout: record.id, lines: lines)),
                                                          partition: partition)
                    if case .refused(let error) = outcome { return error.message }
                    return nil
                }
            }
            for try await refusal in group where reason == nil { reason = refusal }
        }
        return reason
    }

    private func replyAfterDecision(cart: CartID, record: CheckoutRecord, replica: PartitionReplica) async throws -> CheckoutReply {
        try await replica.loop.submit {
            let current = replica.state.carts[cart]
            return CheckoutReply(cart: cart, checkout: record.id, total: record.total,
                                 version: current?.version ?? .zero, seq: current?.seq ?? .zero)
        }.get()
    }

    /// One idempotent saga step, retried (bounded) across leader changes and lost links.
    func sagaStep(_ command: Command, partition: PartitionID) async throws -> CommandOutcome {
        let giveUpAt = ContinuousClock.now + .milliseconds(configuration.sagaStepRetryWindowMs)
        var pauseMs = Self.sagaStepRetryPauseMs
        while true {
            let loop = replicas[partition]?.loop ?? eventLoopGroup.next()
            do {
                return try await proposeInternal(command, partition: partition, request: nil, on: loop).get()
            } catch {
                guard ContinuousClock.now < giveUpAt, Router.shouldRetry(error) || error is RPCError else { throw error }
                try await Task.sleep(for: .milliseconds(pauseMs))
                pauseMs = min(pauseMs * 2, Self.sagaStepRetryPauseMaxMs)
            }
        }
    }
}

/// The checkouts whose saga this node is running, so that a sweep does not start a second
/// one. A count per checkout: a client's own checkout runs whatever a sweep started.
final class RunningSagas: Sendable {
    private let counts = NIOLockedValueBox([CheckoutID: Int]())

    /// Counts a saga of `checkout` as running; with `onlyIfIdle`, only if none is (returns
    /// whether it was counted).
    @discardableResult
    func claim(_ checkout: CheckoutID, onlyIfIdle: Bool) -> Bool {
        counts.withLockedValue { counts in
            if onlyIfIdle && counts[checkout] != nil { return false }
            counts[checkout, default: 0] += 1
            return true
        }
    }

    func release(_ checkout: CheckoutID) {
        counts.withLockedValue { counts in
            guard let count = counts[checkout] else { return }
            counts[checkout] = count > 1 ? count - 1 : nil
        }
    }

    var count: Int { counts.withLockedValue { $0.count } }
}
