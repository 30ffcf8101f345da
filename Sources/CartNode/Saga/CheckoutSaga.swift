import CartAPI
import CartDomain
import CartGateway
import CartRPC
import CartTLS
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
    /// What a saga step, or a checkout, gets from a node that is stopping.
    static let stoppingError = RPCError(.unavailable, "node is shutting down; the checkout is left to its partition's next leader",
                                        retryAfterMs: 100)

    /// The checkout id of a client's checkout request: the same for every retry of it, through
    /// any node, and different for every cart. Item partitions know a checkout by this id
    /// alone (a reservation held or settled under it is "already done"), so an id made of the
    /// request key only would let a key reused on another cart ride on, or release, the first
    /// cart's reservations.
    static func checkoutID(cart: CartID, request: RequestKey) -> CheckoutID {
        let digest = Crypto.sha256(Array("checkout\u{0}\(cart.rawValue)\u{0}\(request.client.rawValue)\u{0}\(request.request.rawValue)".utf8))
        return CheckoutID("co-" + Hex.encode(digest.prefix(16)))
    }

    func checkout(_ request: CheckoutRequest, actor: UserID, replica: PartitionReplica) -> EventLoopFuture<CheckoutReply> {
        let checkoutID = Self.checkoutID(cart: request.cart, request: request.request)
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
            let started = sagaRuns.run {
                do {
                    promise.succeed(try await self.runSaga(cart: request.cart, record: record, replica: replica))
                } catch {
                    promise.fail(error)
                }
            }
            if !started {
                sagas.release(record.id)
                promise.fail(Self.stoppingError)
            }
            return promise.futureResult
        }
    }

    /// Resumes the unsettled checkouts of a partition this node leads that no saga of this
    /// node is running. On the replica's loop.
    func resumeCheckouts(_ replica: PartitionReplica) {
        for (cart, record) in replica.state.unsettledCheckouts() where sagas.claim(record.id, onlyIfIdle: true) {
            guard sagaRuns.run({ _ = try? await self.runSaga(cart: cart, record: record, replica: replica) }) else {
                sagas.release(record.id)
                return
            }
            logger.info("resuming checkout", metadata: ["cart": "\(cart)", "checkout": "\(record.id)"])
            metrics.increment(.checkoutsResumed)
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
        // A retry of a checkout aborted earlier gets the abort again, not a success.
        var abortReason: String? = outcome == .aborted ? "checkout \(record.id) was aborted" : nil
        if outcome == .pending {
            do {
                abortReason = try await reserveAll(record)
            } catch {
                // The node is stopping: it decides nothing (the partition's next leader will).
                if Task.isCancelled { throw Self.stoppingError }
                // A partition stayed unreachable (or failed for good) through the retry window:
                // give up into an abort (Saga.md 3b). Releasing is safe whatever the reservation's
                // fate: a late one finds the released tombstone and is refused.
                logger.warning("checkout gives up on reserving stock; aborting", metadata: ["checkout": "\(record.id)", "error": "\(error)"])
                abortReason = "stock could not be reserved: \(error)"
            }
            // A reason over the domain's limit would be refused and leave the cart checking out.
            let decision: Command = abortReason.map { .abortCheckout(AbortCheckout(cart: cart, checkout: record.id, reason: Self.fitted($0))) }
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
        let settlementRun = sagaRuns.run { [self] in
            defer { sagas.release(record.id) }
            do {
                try await settle(record, with: settlement)
                _ = try await sagaStep(.settleCheckout(SettleCheckout(cart: cart, checkout: record.id)), partition: cartPartition)
            } catch {
                logger.warning("checkout settlement postponed to the next sweep", metadata: ["checkout": "\(record.id)", "error": "\(error)"])
            }
        }
        settling = settlementRun  // else the claim ends with this run (the sweep settles it)
        if let abortReason { throw RPCError(.failedPrecondition, "checkout aborted: \(abortReason)") }
        return reply
    }

    /// `reason` cut to the domain's `reasonBytesMax` at a character boundary.
    static func fitted(_ reason: String, bytesMax: Int = DomainLimits.standard.reasonBytesMax) -> String {
        guard reason.utf8.count > bytesMax else { return reason }
        var fitted = ""
        for character in reason {
            guard fitted.utf8.count + character.utf8.count <= bytesMax else { break }
            fitted.append(character)
        }
        return fitted
    }

    /// Step 2 on every item partition, in parallel; the first refusal's message, or nil when
    /// all reserved. A refusal decides the abort at once: the partitions still answering are
    /// not waited for (their reservations are released with the others).
    private func reserveAll(_ record: CheckoutRecord) async throws -> String? {
        let byPartition = Dictionary(grouping: record.lines) { placement.partition(of: $0.item) }
        return try await withThrowingTaskGroup(of: String?.self) { group in
            for (partition, lines) in byPartition {
                group.addTask {
                    let outcome = try await self.sagaStep(.reserveStock(ReserveStock(checkout: record.id, lines: lines)),
                                                          partition: partition)
                    if case .refused(let error) = outcome { return error.message }
                    return nil
                }
            }
            for try await refusal in group {
                if let refusal {
                    group.cancelAll()
                    return refusal
                }
            }
            return nil
        }
    }

    /// Step 4 on every item partition, in parallel. A refusal here (the reservation was
    /// released, or forgotten, while the cart decided otherwise) cannot be repaired by
    /// retrying: it is logged as an error for an operator and the checkout settles anyway.
    private func settle(_ record: CheckoutRecord, with settlement: Command) async throws {
        try await withThrowingTaskGroup(of: (PartitionID, CommandOutcome).self) { group in
            for partition in Set(record.lines.map { placement.partition(of: $0.item) }) {
                group.addTask { (partition, try await self.sagaStep(settlement, partition: partition)) }
            }
            for try await (partition, outcome) in group {
                guard case .refused(let error) = outcome else { continue }
                metrics.increment(.checkoutSettlementsRefused)
                logger.error("an item partition refused a checkout's settlement; its stock may not match the cart",
                             metadata: ["checkout": "\(record.id)", "partition": "\(partition)", "error": "\(error)"])
            }
        }
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
            // Cancelled: the node is stopping, and its loops may be gone before an answer comes.
            guard !Task.isCancelled else { throw Self.stoppingError }
            let loop = replicas[partition]?.loop ?? eventLoopGroup.next()
            do {
                return try await proposeInternal(command, partition: partition, request: nil, on: loop).get()
            } catch {
                guard ContinuousClock.now < giveUpAt, Self.sagaStepMayRetry(error), !Task.isCancelled else { throw error }
                try await Task.sleep(for: .milliseconds(pauseMs))
                pauseMs = min(pauseMs * 2, Self.sagaStepRetryPauseMaxMs)
            }
        }
    }
}

extension NodeServices {
    /// Whether a failed saga step may succeed if sent again: a leader change, a lost link or
    /// a busy node may pass; a malformed command or an internal failure will not.
    static func sagaStepMayRetry(_ error: any Error) -> Bool {
        if Router.shouldRetry(error) { return true }
        guard let error = error as? RPCError else { return false }
        return error.code == .deadlineExceeded || error.code == .resourceExhausted || error.code == .cancelled
    }
}

/// What this node is working on, so that a sweep does not start the same work twice: the
/// checkouts whose saga runs (`NodeServices.sagas`; a client's own checkout runs whatever a
/// sweep started, hence a count per key), the pending links being re-sent.
final class ClaimSet<Key: Hashable & Sendable>: Sendable {
    private let counts = NIOLockedValueBox([Key: Int]())

    /// Counts `key` as claimed; with `onlyIfIdle`, only if it is not already (returns whether
    /// it was counted).
    @discardableResult
    func claim(_ key: Key, onlyIfIdle: Bool) -> Bool {
        counts.withLockedValue { counts in
            if onlyIfIdle && counts[key] != nil { return false }
            counts[key, default: 0] += 1
            return true
        }
    }

    func release(_ key: Key) {
        counts.withLockedValue { counts in
            guard let count = counts[key] else { return }
            counts[key] = count > 1 ? count - 1 : nil
        }
    }

    /// The keys claimed now.
    var claimed: Set<Key> { counts.withLockedValue { Set($0.keys) } }

    var count: Int { counts.withLockedValue { $0.count } }
}
