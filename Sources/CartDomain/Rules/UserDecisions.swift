import CartTypes

// Deciding user commands on a user partition. Links are maintained by the node after the
// cart's partition accepted the change, and are idempotent so the node can retry them;
// ordered by the cart seq they carry, so they may arrive in any order.

extension PartitionState {
    func decideRegisterUser(_ command: RegisterUser, at timestamp: Timestamp) throws(DomainError) -> [Event] {
        try validate(command.user)
        let hashBytes = command.passwordHash.count
        guard hashBytes > 0 && hashBytes <= limits.passwordHashBytesMax else {
            throw .invalidArgument("password hash must be 1...\(limits.passwordHashBytesMax) bytes, got \(hashBytes)")
        }
        guard users[command.user] == nil else { throw .userAlreadyExists(command.user) }
        guard users.count < limits.usersPerPartitionMax else { throw .partitionFull(max: limits.usersPerPartitionMax) }
        let registered = UserRegistered(user: command.user, passwordHash: command.passwordHash, timestamp: timestamp)
        return [.user(.registered(registered))]
    }

    /// With a `cartSeq`, a link not newer than the cart's mark is stale (an unshare or a later
    /// share already counted) and changes nothing; a newer one is recorded even when the same
    /// link exists, to move the mark on.
    func decideLinkCart(_ command: LinkCart) throws(DomainError) -> [Event] {
        try validate(command.cart)
        guard let user = users[command.user] else { throw .userNotFound(command.user) }
        if let seq = command.cartSeq, let mark = user.mark(for: command.cart), mark.seq >= seq { return [] }
        let link = CartLink(cart: command.cart, role: command.role)
        if let existing = user.link(for: command.cart) {
            if existing == link && command.cartSeq == nil { return [] }
        } else {
            guard user.carts.count < limits.cartsPerUserMax else { throw .tooManyCarts(max: limits.cartsPerUserMax) }
        }
        return [.user(.cartLinked(UserCartLinked(user: user.id, link: link, cartSeq: command.cartSeq)))]
    }

    /// With a `cartSeq`, a stale unlink changes nothing, and a newer one is recorded even
    /// without a link, so a link sent before it but arriving after it is ignored.
    func decideUnlinkCart(_ command: UnlinkCart) throws(DomainError) -> [Event] {
        guard let user = users[command.user] else { throw .userNotFound(command.user) }
        if let seq = command.cartSeq {
            if let mark = user.mark(for: command.cart), mark.seq >= seq { return [] }
        } else {
            guard user.link(for: command.cart) != nil else { return [] }
        }
        return [.user(.cartUnlinked(UserCartUnlinked(user: user.id, cart: command.cart, cartSeq: command.cartSeq)))]
    }

    /// On the cart's partition: ends the pending links still pending at the seq given.
    func decideConfirmLinks(_ command: ConfirmLinks) throws(DomainError) -> [Event] {
        guard command.links.count <= ConfirmLinks.linksMax else {
            throw .invalidArgument("at most \(ConfirmLinks.linksMax) links per confirmation, got \(command.links.count)")
        }
        var seen = Set<LinkAtSeq>()
        let confirmed = command.links.filter { link in
            linksPending[link.cart]?.contains { $0.user == link.user && $0.seq == link.seq } == true && seen.insert(link).inserted
        }
        return confirmed.isEmpty ? [] : [.links(LinksConfirmed(links: confirmed))]
    }
}
