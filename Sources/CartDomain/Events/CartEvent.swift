import CartTypes

/// One change of one cart, positioned in the cart's history. `seq` is the event's position
/// (1, 2, 3, … with no gaps); `version` is the cart's version after the command that caused
/// it. Watchers resume from a seq; writers compare versions.
public struct CartEvent: Hashable, Codable, Sendable {
    public let cart: CartID
    public let seq: Seq
    public let version: Version
    public let timestamp: Timestamp
    public let change: CartChange

    public init(cart: CartID, seq: Seq, version: Version, timestamp: Timestamp, change: CartChange) {
        self.cart = cart
        self.seq = seq
        self.version = version
        self.timestamp = timestamp
        self.change = change
    }

    enum CodingKeys: Int, CodingKey {
        case cart = 1, seq = 2, version = 3, timestamp = 4, change = 5
    }
}

/// The kinds of cart change, named after the seed's events.
public enum CartChange: Hashable, Codable, Sendable {
    case created(CartCreated)
    case itemAdded(CartItemAdded)
    case itemRemoved(CartItemRemoved)
    case modified(CartModified)
    case shared(CartShared)
    case unshared(CartUnshared)
    case checkoutStarted(CartCheckoutStarted)
    case checkout(CartCheckout)
    case checkoutAborted(CartCheckoutAborted)
    case checkoutSettled(CartCheckoutSettled)

    public var name: String {
        switch self {
        case .created: "CartCreated"
        case .itemAdded: "CartItemAdded"
        case .itemRemoved: "CartItemRemoved"
        case .modified: "CartModified"
        case .shared: "CartShared"
        case .unshared: "CartUnshared"
        case .checkoutStarted: "CartCheckoutStarted"
        case .checkout: "CartCheckout"
        case .checkoutAborted: "CartCheckoutAborted"
        case .checkoutSettled: "CartCheckoutSettled"
        }
    }

    enum CodingKeys: Int, CodingKey {
        case created = 1, itemAdded, itemRemoved, modified, shared, unshared
        case checkoutStarted, checkout, checkoutAborted, checkoutSettled
    }
}

extension CartChange {
    /// The user whose link to the cart this change makes (with the role it gives) or ends
    /// (role nil): what a user's partition is to record (Saga.md, "Users and shares"); nil
    /// for changes of the cart's contents or checkout.
    public var membershipChange: (user: UserID, role: CartLink.Role?)? {
        switch self {
        case .created(let created): (created.owner, .owner)
        case .shared(let shared): (shared.user, .shared)
        case .unshared(let unshared): (unshared.user, nil)
        case .itemAdded, .itemRemoved, .modified, .checkoutStarted, .checkout, .checkoutAborted, .checkoutSettled: nil
        }
    }
}
