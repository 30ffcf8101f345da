import CartDomain
import CartTypes
import NIOCore

// The users' side of carts (Saga.md, "Users and shares"): after the cart's partition
// accepted a create, share or unshare, the user's partition records the link. Link and
// unlink are idempotent, so they are retried (bounded) until they succeed. A share with a
// user that does not exist is compensated by unsharing, except with development
// identities, where users need not register.

extension NodeServices {
    static let linkAttemptsMax = 20
    static let linkRetryPauseMs: Int64 = 100

    /// `cartSeq`: the seq of the cart event that made the link; the user's partition takes a
    /// link or unlink only if it is newer than the last it recorded for that cart, so these
    /// follow-ups, each retried on its own, cannot undo a later share or unshare.
    func linkUser(_ user: UserID, to cart: CartID, role: CartLink.Role, cartSeq: Seq, sharedBy owner: UserID? = nil) {
        let command = Command.linkCart(LinkCart(user: user, cart: cart, role: role, cartSeq: cartSeq))
        followUp(command, partition: placement.partition(of: user), attempt: 1) { [self] outcome in
            guard case .refused(.userNotFound) = outcome, let owner, !configuration.devIdentities else { return }
            let unshare = Command.unshareCart(UnshareCart(cart: cart, actor: owner, user: user))
            followUp(unshare, partition: placement.partition(of: cart), attempt: 1) { _ in }
        }
    }

    func unlinkUser(_ user: UserID, from cart: CartID, cartSeq: Seq) {
        followUp(.unlinkCart(UnlinkCart(user: user, cart: cart, cartSeq: cartSeq)), partition: placement.partition(of: user),
                 attempt: 1) { _ in }
    }

    private func followUp(_ command: Command, partition: PartitionID, attempt: Int,
                          then: @escaping @Sendable (CommandOutcome) -> Void) {
        let loop = replicas[partition]?.loop ?? eventLoopGroup.next()
        proposeInternal(command, partition: partition, request: nil, on: loop).whenComplete { [self] result in
            switch result {
            case .success(let outcome):
                then(outcome)
            case .failure(let error):
                guard attempt < Self.linkAttemptsMax else {
                    logger.warning("follow-up command abandoned", metadata: ["command": "\(command)", "error": "\(error)"])
                    return
                }
                loop.scheduleTask(in: .milliseconds(Self.linkRetryPauseMs)) {
                    self.followUp(command, partition: partition, attempt: attempt + 1, then: then)
                }
            }
        }
    }
}
