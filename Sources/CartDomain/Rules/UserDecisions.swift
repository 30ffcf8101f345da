import CartTypes

// Deciding user commands on a user partition. Links are maintained by the node after the
// cart's partition accepted the change, and are idempotent so the node can retry them.

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

    func decideLinkCart(_ command: LinkCart) throws(DomainError) -> [Event] {
        try validate(command.cart)
        guard let user = users[command.user] else { throw .userNotFound(command.user) }
        let link = CartLink(cart: command.cart, role: command.role)
        if let existing = user.link(for: command.cart) {
            if existing == link { return [] }
        } else {
            guard user.carts.count < limits.cartsPerUserMax else { throw .tooManyCarts(max: limits.cartsPerUserMax) }
        }
        return [.user(.cartLinked(UserCartLinked(user: user.id, link: link)))]
    }

    func decideUnlinkCart(_ command: UnlinkCart) throws(DomainError) -> [Event] {
        guard let user = users[command.user] else { throw .userNotFound(command.user) }
        guard user.link(for: command.cart) != nil else { return [] }
        return [.user(.cartUnlinked(UserCartUnlinked(user: user.id, cart: command.cart)))]
    }
}
