import CartTypes

// The payload of each cart change. Each carries the resulting values (not only the delta)
// so a watcher can show the cart without re-reading it.

public struct CartCreated: Hashable, Codable, Sendable {
    public let owner: UserID
    public init(owner: UserID) { self.owner = owner }
    enum CodingKeys: Int, CodingKey { case owner = 1 }
}

public struct CartItemAdded: Hashable, Codable, Sendable {
    public let actor: UserID
    /// The line after the addition (quantity is the new total).
    public let line: CartLine
    public let quantityAdded: Int64
    public init(actor: UserID, line: CartLine, quantityAdded: Int64) {
        self.actor = actor
        self.line = line
        self.quantityAdded = quantityAdded
    }
    enum CodingKeys: Int, CodingKey { case actor = 1, line = 2, quantityAdded = 3 }
}

public struct CartItemRemoved: Hashable, Codable, Sendable {
    public let actor: UserID
    public let item: ItemID
    public init(actor: UserID, item: ItemID) {
        self.actor = actor
        self.item = item
    }
    enum CodingKeys: Int, CodingKey { case actor = 1, item = 2 }
}

/// A line's quantity was set.
public struct CartModified: Hashable, Codable, Sendable {
    public let actor: UserID
    public let item: ItemID
    public let quantity: Int64
    public init(actor: UserID, item: ItemID, quantity: Int64) {
        self.actor = actor
        self.item = item
        self.quantity = quantity
    }
    enum CodingKeys: Int, CodingKey { case actor = 1, item = 2, quantity = 3 }
}

public struct CartShared: Hashable, Codable, Sendable {
    public let user: UserID
    public init(user: UserID) { self.user = user }
    enum CodingKeys: Int, CodingKey { case user = 1 }
}

public struct CartUnshared: Hashable, Codable, Sendable {
    public let user: UserID
    public init(user: UserID) { self.user = user }
    enum CodingKeys: Int, CodingKey { case user = 1 }
}

/// The cart is frozen; `lines` (sorted by item) are to be reserved under `checkout`.
public struct CartCheckoutStarted: Hashable, Codable, Sendable {
    public let actor: UserID
    public let checkout: CheckoutID
    public let lines: [StockLine]
    public let total: Money
    public init(actor: UserID, checkout: CheckoutID, lines: [StockLine], total: Money) {
        self.actor = actor
        self.checkout = checkout
        self.lines = lines
        self.total = total
    }
    enum CodingKeys: Int, CodingKey { case actor = 1, checkout = 2, lines = 3, total = 4 }
}

/// The checkout completed (the seed's `CartCheckout`); the cart is final.
public struct CartCheckout: Hashable, Codable, Sendable {
    public let checkout: CheckoutID
    public let total: Money
    public init(checkout: CheckoutID, total: Money) {
        self.checkout = checkout
        self.total = total
    }
    enum CodingKeys: Int, CodingKey { case checkout = 1, total = 2 }
}

public struct CartCheckoutAborted: Hashable, Codable, Sendable {
    public let checkout: CheckoutID
    public let reason: String
    public init(checkout: CheckoutID, reason: String) {
        self.checkout = checkout
        self.reason = reason
    }
    enum CodingKeys: Int, CodingKey { case checkout = 1, reason = 2 }
}

/// Every item partition committed or released the checkout's stock.
public struct CartCheckoutSettled: Hashable, Codable, Sendable {
    public let checkout: CheckoutID
    public init(checkout: CheckoutID) { self.checkout = checkout }
    enum CodingKeys: Int, CodingKey { case checkout = 1 }
}
