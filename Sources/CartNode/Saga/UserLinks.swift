import CartDomain
import CartTypes
import NIOConcurrencyHelpers
import NIOCore

// The users' side of carts (Saga.md, "Users and shares"): after the cart's partition
// accepted a create, share or unshare, the user's partition records the link or unlink.
// Link and unlink are idempotent and ordered by the cart seq they carry, so they are
// retried (bounded) until they succeed. A share with a user that does not exist is
// compensated by unsharing, except with development identities, where users need not
// register.
//
// The cart's partition keeps each change pending (`PartitionState.linksPending`) until a
// node confirms it recorded (`ConfirmLinks`, batched); the partition's leader re-sends what
// stays pending longer than `linksResendAfterMs`, so a node that stopped before its
// follow-ups succeeded, or whose retries gave up, loses nothing.

/// One link (with the role it gives) or unlink, as of a cart seq.
struct LinkChange: Sendable {
    let cart: CartID
    let user: UserID
    let seq: Seq
    /// nil: unlink.
    let role: CartLink.Role?

    var confirmation: LinkAtSeq { LinkAtSeq(cart: cart, user: user, seq: seq) }

    /// What the membership events among `events` call for, each as of its own seq.
    static func changes(in events: [Event]) -> [LinkChange] {
        events.compactMap { event in
            guard case .cart(let cartEvent) = event, let change = cartEvent.change.membershipChange else { return nil }
            return LinkChange(cart: cartEvent.cart, user: change.user, seq: cartEvent.seq, role: change.role)
        }
    }
}

extension NodeServices {
    static let linkAttemptsMax = 20
    static let linkRetryPauseMs: Int64 = 100
    /// Pending links a leader re-sends per sweep of one partition, at most.
    static let linksResentPerSweepMax = 1_024

    /// How long a change stays pending before the leader re-sends it: two sweeps, so the
    /// node that made it has had time to send and confirm it.
    var linksResendAfterMs: Int64 { 2 * configuration.checkoutSweepIntervalMs }

    /// The follow-ups of one accepted cart write, from the node that served it. `owner`:
    /// the cart's, who takes a user that does not exist back off the cart.
    func sendLinks(_ changes: [LinkChange], owner: UserID?) {
        guard !links.immediateSendsDisabled else { return }
        for change in changes { send(change, owner: owner) }
    }

    /// On the replica's loop while it leads (`ReplicaHooks.leading`): re-sends the links its
    /// cart partition has held pending for longer than `linksResendAfterMs`.
    func resendPendingLinks(_ replica: PartitionReplica) {
        let before = Timestamp(millisecondsSinceEpoch: Int64(TokenService.now().rawValue) - linksResendAfterMs)
        // Links this node is still re-sending are skipped before the limit counts, so a user
        // partition without a leader holds up only its own links.
        let resending = links.resending.claimed
        let due = replica.state.linksPending(before: before, limit: Self.linksResentPerSweepMax) { cart, link in
            resending.contains(LinkAtSeq(cart: cart, user: link.user, seq: link.seq))
        }
        for (cart, link, role) in due {
            let change = LinkChange(cart: cart, user: link.user, seq: link.seq, role: link.linked ? role : nil)
            guard links.resending.claim(change.confirmation, onlyIfIdle: true) else { continue }
            metrics.increment(.linksResent)
            send(change, owner: replica.state.carts[cart]?.owner) { [links] in links.resending.release(change.confirmation) }
        }
    }

    private func send(_ change: LinkChange, owner: UserID?, finally: @escaping @Sendable () -> Void = {}) {
        let command: Command = change.role.map { .linkCart(LinkCart(user: change.user, cart: change.cart, role: $0, cartSeq: change.seq)) }
            ?? .unlinkCart(UnlinkCart(user: change.user, cart: change.cart, cartSeq: change.seq))
        followUp(command, partition: placement.partition(of: change.user), attempt: 1) { [self] result in
            defer { finally() }
            guard case .success(let outcome) = result else { return }  // stays pending: re-sent later
            if change.role == .shared, case .refused(.userNotFound) = outcome, let owner, !configuration.devIdentities {
                // Nobody to link: take the user off the cart, then confirm the link. If the
                // unshare applied, its own pending unlink replaced this entry (the confirmation
                // ends nothing; a later sweep confirms the unlink of a user that does not
                // exist); if it was refused (the cart is checking out or checked out), nothing
                // more can be done. Only an unshare that never got through leaves the link
                // pending, to be re-sent and compensated again.
                let unshare = Command.unshareCart(UnshareCart(cart: change.cart, actor: owner, user: change.user))
                followUp(unshare, partition: placement.partition(of: change.cart), attempt: 1) { [self] result in
                    guard case .success = result else { return }
                    confirm(change.confirmation, partition: placement.partition(of: change.cart))
                }
                return
            }
            // Recorded, already recorded, or never recordable (a user that does not exist
            // with development identities, a full cart list): nothing more to send.
            confirm(change.confirmation, partition: placement.partition(of: change.cart))
        }
    }

    /// Confirmations go to the cart's partition in batches, one proposal per partition per
    /// `LinkSends.confirmDelayMs`; one lost with a leader change leaves its link pending, and it
    /// is re-sent and confirmed again later.
    private func confirm(_ link: LinkAtSeq, partition: PartitionID) {
        guard links.add(link, partition: partition) else { return }
        let loop = replicas[partition]?.loop ?? eventLoopGroup.next()
        loop.scheduleTask(in: .milliseconds(LinkSends.confirmDelayMs)) { [self] in
            for batch in links.take(partition) {
                proposeInternal(.confirmLinks(ConfirmLinks(links: batch)), partition: partition, request: nil,
                                on: loop).whenFailure { [logger] error in
                    logger.debug("link confirmations not proposed; re-sent later", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    private func followUp(_ command: Command, partition: PartitionID, attempt: Int,
                          then: @escaping @Sendable (Result<CommandOutcome, any Error>) -> Void) {
        let loop = replicas[partition]?.loop ?? eventLoopGroup.next()
        proposeInternal(command, partition: partition, request: nil, on: loop).whenComplete { [self] result in
            switch result {
            case .success:
                then(result)
            case .failure(let error):
                guard attempt < Self.linkAttemptsMax else {
                    logger.warning("follow-up command abandoned", metadata: ["command": "\(command)", "error": "\(error)"])
                    then(result)
                    return
                }
                loop.scheduleTask(in: .milliseconds(Self.linkRetryPauseMs)) {
                    self.followUp(command, partition: partition, attempt: attempt + 1, then: then)
                }
            }
        }
    }
}

/// The node's link bookkeeping: confirmations waiting to be proposed, per cart partition,
/// and the pending links a sweep of this node is re-sending (not sent twice at once).
final class LinkSends: Sendable {
    static let confirmDelayMs: Int64 = 250

    private struct State {
        var confirmations: [PartitionID: [LinkAtSeq]] = [:]
        var immediateSendsDisabled = false
    }

    /// The pending links a sweep of this node is re-sending.
    let resending = ClaimSet<LinkAtSeq>()

    private let state = NIOLockedValueBox(State())

    /// Queues a confirmation; true if the partition's queue was empty (schedule a flush).
    func add(_ link: LinkAtSeq, partition: PartitionID) -> Bool {
        state.withLockedValue { state in
            state.confirmations[partition, default: []].append(link)
            return state.confirmations[partition]!.count == 1
        }
    }

    /// The partition's queued confirmations, in proposals of at most `ConfirmLinks.linksMax`.
    func take(_ partition: PartitionID) -> [[LinkAtSeq]] {
        let queued = state.withLockedValue { $0.confirmations.removeValue(forKey: partition) ?? [] }
        return stride(from: 0, to: queued.count, by: ConfirmLinks.linksMax).map {
            Array(queued[$0..<min($0 + ConfirmLinks.linksMax, queued.count)])
        }
    }


    /// Tests: the node that serves a write stops sending its follow-ups, as if it had
    /// stopped right after answering; only the leaders' re-sends deliver them.
    var immediateSendsDisabled: Bool {
        get { state.withLockedValue { $0.immediateSendsDisabled } }
        set { state.withLockedValue { $0.immediateSendsDisabled = newValue } }
    }
}
