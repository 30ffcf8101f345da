import CartTypes

// Deciding cart commands: who may do what to a cart, and what it becomes.
//
// Permissions: the owner and the users the cart is shared with may read and change the
// items and check out. Only the owner may share; the owner may unshare anyone, and a shared
// user may unshare only themselves (leave). Nobody else may do anything to the cart.
// Checks run in a fixed order so the same command always fails the same way: the cart
// exists, the actor may act, the cart is active, the expected version matches, the
// arguments are valid.

extension PartitionState {
    func decideCreateCart(_ command: CreateCart, at timestamp: Timestamp) throws(DomainError) -> [Event] {
        try validate(command.cart)
        try validate(command.owner)
        guard carts[command.cart] == nil else { throw .cartAlreadyExists(command.cart) }
        guard carts.count < limits.cartsPerPartitionMax else { throw .partitionFull(max: limits.cartsPerPartitionMax) }
        let event = CartEvent(cart: command.cart, seq: Seq(1), version: Version(1), timestamp: timestamp,
                              change: .created(CartCreated(owner: command.owner)))
        return [.cart(event)]
    }

    func decideAddItem(_ command: AddItem, at timestamp: Timestamp) throws(DomainError) -> [Event] {
        // What is wrong in the command itself is said first, whatever the cart's state.
        try validate(command.item)
        try validateQuantity(command.quantity)
        try validatePrice(command.unitPrice)
        let cart = try modifiableCart(command.cart, by: command.actor, expecting: command.expectedVersion)
        let line: CartLine
        if let existing = cart.line(for: command.item) {
            let (quantity, overflow) = existing.quantity.addingReportingOverflow(command.quantity)
            guard !overflow else { throw .invalidQuantity(command.quantity) }
            try validateQuantity(quantity)
            line = CartLine(item: command.item, quantity: quantity, unitPrice: existing.unitPrice)
        } else {
            guard cart.lines.count < limits.itemsPerCartMax else { throw .tooManyItems(max: limits.itemsPerCartMax) }
            line = CartLine(item: command.item, quantity: command.quantity, unitPrice: command.unitPrice)
        }
        let added = CartItemAdded(actor: command.actor, line: line, quantityAdded: command.quantity)
        return cartEvent(for: cart, at: timestamp, change: .itemAdded(added))
    }

    func decideRemoveItem(_ command: RemoveItem, at timestamp: Timestamp) throws(DomainError) -> [Event] {
        let cart = try modifiableCart(command.cart, by: command.actor, expecting: command.expectedVersion)
        guard cart.line(for: command.item) != nil else { throw .itemNotInCart(command.item) }
        let removed = CartItemRemoved(actor: command.actor, item: command.item)
        return cartEvent(for: cart, at: timestamp, change: .itemRemoved(removed))
    }

    func decideSetQuantity(_ command: SetQuantity, at timestamp: Timestamp) throws(DomainError) -> [Event] {
        try validateQuantity(command.quantity)
        let cart = try modifiableCart(command.cart, by: command.actor, expecting: command.expectedVersion)
        guard cart.line(for: command.item) != nil else { throw .itemNotInCart(command.item) }
        let modified = CartModified(actor: command.actor, item: command.item, quantity: command.quantity)
        return cartEvent(for: cart, at: timestamp, change: .modified(modified))
    }

    func decideShareCart(_ command: ShareCart, at timestamp: Timestamp) throws(DomainError) -> [Event] {
        let cart = try existingCart(command.cart)
        guard command.actor == cart.owner else { throw .permissionDenied(command.actor) }
        try requireActive(cart, expecting: command.expectedVersion)
        guard !command.users.isEmpty else { throw .invalidArgument("no users to share with") }
        guard command.users.count <= limits.usersPerShareMax else {
            throw .invalidArgument("at most \(limits.usersPerShareMax) users per share")
        }
        var seen: Set<UserID> = []
        for user in command.users {
            try validate(user)
            guard user != cart.owner else { throw .invalidArgument("the owner cannot be a shared user") }
            guard seen.insert(user).inserted else { throw .invalidArgument("user \(user) named twice") }
            guard !cart.isShared(with: user) else { throw .alreadyShared(user) }
        }
        guard cart.sharedUsers.count + command.users.count <= limits.sharedUsersMax else {
            throw .tooManyShares(max: limits.sharedUsersMax)
        }
        let changes = command.users.map { CartChange.shared(CartShared(user: $0)) }
        return cartEvents(for: cart, at: timestamp, changes: changes)
    }

    func decideUnshareCart(_ command: UnshareCart, at timestamp: Timestamp) throws(DomainError) -> [Event] {
        let cart = try existingCart(command.cart)
        let leaving = command.actor == command.user && cart.isShared(with: command.actor)
        guard command.actor == cart.owner || leaving else { throw .permissionDenied(command.actor) }
        try requireActive(cart, expecting: command.expectedVersion)
        guard cart.isShared(with: command.user) else { throw .notShared(command.user) }
        return cartEvent(for: cart, at: timestamp, change: .unshared(CartUnshared(user: command.user)))
    }

    // MARK: Shared checks

    func existingCart(_ id: CartID) throws(DomainError) -> Cart {
        guard let cart = carts[id] else { throw .cartNotFound(id) }
        return cart
    }

    /// The cart, if `actor` may change it now and it is at `expectedVersion` (when given).
    func modifiableCart(_ id: CartID, by actor: UserID, expecting expectedVersion: Version?) throws(DomainError) -> Cart {
        let cart = try existingCart(id)
        guard cart.isMember(actor) else { throw .permissionDenied(actor) }
        try requireActive(cart, expecting: expectedVersion)
        return cart
    }

    func requireActive(_ cart: Cart, expecting expectedVersion: Version?) throws(DomainError) {
        guard cart.status == .active else { throw .cartClosed(cart.status) }
        if let expectedVersion, expectedVersion != cart.version {
            throw .versionConflict(current: cart.version)
        }
    }

    /// Positions `change` as the next event of `cart`: most commands emit one event, and
    /// building it directly saves the array of changes on every command.
    func cartEvent(for cart: Cart, at timestamp: Timestamp, change: CartChange) -> [Event] {
        [.cart(CartEvent(cart: cart.id, seq: cart.seq.next, version: cart.version.next, timestamp: timestamp, change: change))]
    }

    /// Positions `changes` as the next events of `cart`: consecutive seqs, and the version
    /// after this one command.
    func cartEvents(for cart: Cart, at timestamp: Timestamp, changes: [CartChange]) -> [Event] {
        let version = cart.version.next
        var seq = cart.seq
        return changes.map { change in
            seq = seq.next
            return .cart(CartEvent(cart: cart.id, seq: seq, version: version, timestamp: timestamp, change: change))
        }
    }
}
