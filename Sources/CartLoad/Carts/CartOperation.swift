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
        guard mode == .mix else { return mode == .get ? .get : .add }
        var roll = Int.random(in: 0..<100, using: &random)
        for operation in allCases {
            if roll < operation.mixPercent { return operation }
            roll -= operation.mixPercent
        }
        return .add
    }

    /// Runs the operation on a random cart as one of its members (see `choose`); returns the
    /// operation actually run.
    func run(_ users: LoadUsers, _ slots: CartSlots,
             using random: inout some RandomNumberGenerator) async throws(CartClientError) -> CartOperation {
        try await choose(users, slots, using: &random).run(users, slots)
    }

    /// Picks what the operation works on: a random cart, one of its members, an item. A
    /// remove, quantity change or checkout on a cart with no line this workload knows of
    /// becomes an add (a shopper fills an empty cart first). Draws come from the worker's own
    /// `random` (the system generator is a system call per draw).
    func choose(_ users: LoadUsers, _ slots: CartSlots, using random: inout some RandomNumberGenerator) -> CartOperationChoice {
        let (index, slot) = slots.random(using: &random)
        let needsLine = self == .remove || self == .setQuantity || self == .checkout
        let operation = !needsLine || !slot.items.isEmpty ? self : .add
        let actor = Bool.random(using: &random) || operation == .share || operation == .create ? slot.owner : slot.sharedWith
        // Adds prefer items not yet in the cart (a few draws, no allocation), so a line's
        // quantity does not creep up to the domain's limit over a long run.
        var item = users.items.randomElement(using: &random)!
        for _ in 0..<3 where slot.items.contains(item) { item = users.items.randomElement(using: &random)! }
        return CartOperationChoice(operation: operation, index: index, slot: slot, actor: actor, item: item,
                                   lineItem: slot.items.randomElement(using: &random) ?? item,
                                   quantity: Int64.random(in: 1...5, using: &random))
    }
}
