import CartTypes

// Commands that change a cart's contents or membership. `actor` is the authenticated user
// on whose behalf the gateway proposes the command; `expectedVersion`, when present, makes
// the command fail with `versionConflict(current:)` unless the cart is at that version.

/// Creates an empty, active cart owned by `owner`.
public struct CreateCart: Hashable, Codable, Sendable {
    public let cart: CartID
    public let owner: UserID

    public init(cart: CartID, owner: UserID) {
        self.cart = cart
        self.owner = owner
    }

    enum CodingKeys: Int, CodingKey { case cart = 1, owner = 2 }
}

/// Adds `quantity` units of an item. The cart's partition does not store the catalogue, so
/// the node looks the item up first and passes its current price; the cart keeps the price
/// of the first addition for the line's lifetime.
public struct AddItem: Hashable, Codable, Sendable {
    public let cart: CartID
    public let actor: UserID
    public let item: ItemID
    public let quantity: Int64
    public let unitPrice: Money
    public let expectedVersion: Version?

    public init(cart: CartID, actor: UserID, item: ItemID, quantity: Int64, unitPrice: Money,
                expectedVersion: Version? = nil) {
        self.cart = cart
        self.actor = actor
        self.item = item
        self.quantity = quantity
        self.unitPrice = unitPrice
        self.expectedVersion = expectedVersion
    }

    enum CodingKeys: Int, CodingKey {
        case cart = 1, actor = 2, item = 3, quantity = 4, unitPrice = 5, expectedVersion = 6
    }
}

/// Removes an item's line from the cart.
public struct RemoveItem: Hashable, Codable, Sendable {
    public let cart: CartID
    public let actor: UserID
    public let item: ItemID
    public let expectedVersion: Version?

    public init(cart: CartID, actor: UserID, item: ItemID, expectedVersion: Version? = nil) {
        self.cart = cart
        self.actor = actor
        self.item = item
        self.expectedVersion = expectedVersion
    }

    enum CodingKeys: Int, CodingKey { case cart = 1, actor = 2, item = 3, expectedVersion = 4 }
}

/// Sets the quantity of an item already in the cart (use `RemoveItem` to drop it).
public struct SetQuantity: Hashable, Codable, Sendable {
    public let cart: CartID
    public let actor: UserID
    public let item: ItemID
    public let quantity: Int64
    public let expectedVersion: Version?

    public init(cart: CartID, actor: UserID, item: ItemID, quantity: Int64, expectedVersion: Version? = nil) {
        self.cart = cart
        self.actor = actor
        self.item = item
        self.quantity = quantity
        self.expectedVersion = expectedVersion
    }

    enum CodingKeys: Int, CodingKey {
        case cart = 1, actor = 2, item = 3, quantity = 4, expectedVersion = 5
    }
}

/// Shares the cart with `users`. Only the owner may share. All or nothing: if any user is
/// the owner, already shared, or the cart would exceed `sharedUsersMax`, nothing changes.
public struct ShareCart: Hashable, Codable, Sendable {
    public let cart: CartID
    public let actor: UserID
    public let users: [UserID]
    public let expectedVersion: Version?

    public init(cart: CartID, actor: UserID, users: [UserID], expectedVersion: Version? = nil) {
        self.cart = cart
        self.actor = actor
        self.users = users
        self.expectedVersion = expectedVersion
    }

    enum CodingKeys: Int, CodingKey { case cart = 1, actor = 2, users = 3, expectedVersion = 4 }
}

/// Stops sharing the cart with `user`. The owner may unshare anyone; a shared user may only
/// unshare themselves (leave the cart).
public struct UnshareCart: Hashable, Codable, Sendable {
    public let cart: CartID
    public let actor: UserID
    public let user: UserID
    public let expectedVersion: Version?

    public init(cart: CartID, actor: UserID, user: UserID, expectedVersion: Version? = nil) {
        self.cart = cart
        self.actor = actor
        self.user = user
        self.expectedVersion = expectedVersion
    }

    enum CodingKeys: Int, CodingKey { case cart = 1, actor = 2, user = 3, expectedVersion = 4 }
}

/// Ends the pending links (`PartitionState.linksPending`) that the users' partitions
/// recorded: each given (cart, user, seq) still pending at that seq. One whose user's
/// membership changed meanwhile (a newer seq) stays pending. Proposed by the node, batched,
/// at most `linksMax`.
public struct ConfirmLinks: Hashable, Codable, Sendable {
    public static let linksMax = 1_024

    public let links: [LinkAtSeq]

    public init(links: [LinkAtSeq]) {
        self.links = links
    }

    enum CodingKeys: Int, CodingKey { case links = 1 }
}
