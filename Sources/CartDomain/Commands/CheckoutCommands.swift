import CartTypes

// The cart side of the checkout saga (see Saga.md). `BeginCheckout` comes from a member of
// the cart; the other three come from the node coordinating the saga, never from a client.

/// Freezes the cart (`CHECKING_OUT`) and records the lines to reserve under `checkout`.
/// Repeating it with the same checkout id while that checkout is pending changes nothing.
public struct BeginCheckout: Hashable, Codable, Sendable {
    public let cart: CartID
    public let actor: UserID
    public let checkout: CheckoutID
    public let expectedVersion: Version?

    public init(cart: CartID, actor: UserID, checkout: CheckoutID, expectedVersion: Version? = nil) {
        self.cart = cart
        self.actor = actor
        self.checkout = checkout
        self.expectedVersion = expectedVersion
    }

    enum CodingKeys: Int, CodingKey { case cart = 1, actor = 2, checkout = 3, expectedVersion = 4 }
}

/// Every item partition reserved its lines: the cart becomes `CHECKED_OUT` (final).
public struct CompleteCheckout: Hashable, Codable, Sendable {
    public let cart: CartID
    public let checkout: CheckoutID

    public init(cart: CartID, checkout: CheckoutID) {
        self.cart = cart
        self.checkout = checkout
    }

    enum CodingKeys: Int, CodingKey { case cart = 1, checkout = 2 }
}

/// Some reservation failed (or the coordinator gave up): the cart becomes `ACTIVE` again.
public struct AbortCheckout: Hashable, Codable, Sendable {
    public let cart: CartID
    public let checkout: CheckoutID
    /// Shown to the user, e.g. the insufficient-stock message naming the item.
    public let reason: String

    public init(cart: CartID, checkout: CheckoutID, reason: String) {
        self.cart = cart
        self.checkout = checkout
        self.reason = reason
    }

    enum CodingKeys: Int, CodingKey { case cart = 1, checkout = 2, reason = 3 }
}

/// Every item partition committed (after completion) or released (after abort) the
/// checkout's reservations; the cart forgets that it still owes those steps.
public struct SettleCheckout: Hashable, Codable, Sendable {
    public let cart: CartID
    public let checkout: CheckoutID

    public init(cart: CartID, checkout: CheckoutID) {
        self.cart = cart
        self.checkout = checkout
    }

    enum CodingKeys: Int, CodingKey { case cart = 1, checkout = 2 }
}
