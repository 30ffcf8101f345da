import CartClient
import CartTypes

/// One kind of operation of the workload, with its share of the mix in percent.
enum CartOperation: String, CaseIterable, Sendable {
    case add, get, remove, setQuantity = "set-qty", share, create, checkout

    /// The default mix: mostly adds and reads, like shoppers.
    var mixPercent: Int {
        switch self {
        case .add: 40
        case .get: 25
        case .remove: 10
        case .setQuantity: 10
        case .share: 5
        case .create: 5
        case .checkout: 5
        }
    }

    static func pick(_ mode: CartLoadOptions.Mode, using random: inout some RandomNumberGenerator) -> CartOperation {
        guard mode == .mix else { return .add }
        var roll = Int.random(in: 0..<100, using: &random)
        for operation in allCases {
            if roll < operation.mixPercent { return operation }
            roll -= operation.mixPercent
        }
        return .add
    }

    /// Runs the operation on a random cart as one of its members. A remove, quantity change
    /// or checkout on a cart with no line this workload knows of becomes an add (a shopper
    /// fills an empty cart first); returns the operation actually run. Draws come from the
    /// worker's own `random` (the system generator is a system call per draw).
    func run(_ users: LoadUsers, _ slots: CartSlots,
             using random: inout some RandomNumberGenerator) async throws(CartClientError) -> CartOperation {
        let (index, slot) = slots.random(using: &random)
        let needsLine = self == .remove || self == .setQuantity || self == .checkout
        guard !needsLine || !slot.items.isEmpty else {
            return try await CartOperation.add.run(on: index, slot, users, slots, using: &random)
        }
        return try await run(on: index, slot, users, slots, using: &random)
    }

    private func run(on index: Int, _ slot: CartSlots.Slot, _ users: LoadUsers, _ slots: CartSlots,
                     using random: inout some RandomNumberGenerator) async throws(CartClientError) -> CartOperation {
        let actor = Bool.random(using: &random) || self == .share || self == .create ? slot.owner : slot.sharedWith
        let client = users.clients[actor]
        // Adds prefer items not yet in the cart (a few draws, no allocation), so a line's
        // quantity does not creep up to the domain's limit over a long run.
        var item = users.items.randomElement(using: &random)!
        for _ in 0..<3 where slot.items.contains(item) { item = users.items.randomElement(using: &random)! }
        let lineItem = slot.items.randomElement(using: &random) ?? item
        switch self {
        case .add:
            _ = try await client.addItem(slot.cart, item: item, quantity: 1)
            slots.noteAdded(item, at: index, cart: slot.cart)
        case .get:
            _ = try await client.getCart(slot.cart)
        case .remove:
            do {
                _ = try await client.removeItem(slot.cart, item: lineItem)
            } catch where error.code == .notFound {
                // Another worker removed it first: forget it, and let the refusal count.
                slots.noteRemoved(lineItem, at: index, cart: slot.cart)
                throw error
            }
            slots.noteRemoved(lineItem, at: index, cart: slot.cart)
        case .setQuantity:
            _ = try await client.setQuantity(slot.cart, item: lineItem, quantity: Int64.random(in: 1...5, using: &random))
        case .share:
            let other = users.names[(slot.owner + 2) % users.names.count]
            do {
                _ = try await client.share(slot.cart, with: [other])
            } catch let error where error.code == .alreadyExists {
                _ = try await client.unshare(slot.cart, user: other)
            }
        case .create:
            let reply = try await client.createCart()
            slots.replace(index, with: .init(cart: reply.cart, owner: slot.owner, sharedWith: slot.owner))
        case .checkout:
            _ = try await client.checkout(slot.cart)
            let reply = try await users.clients[slot.owner].createCart()
            slots.replace(index, with: .init(cart: reply.cart, owner: slot.owner, sharedWith: slot.owner))
        }
        return self
    }
}
