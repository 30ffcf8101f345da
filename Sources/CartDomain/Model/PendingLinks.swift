import CartTypes

/// A link or unlink a cart's partition still owes a user's partition (Saga.md, "Users and
/// shares"). Recorded when the cart is created, shared or unshared; ended when a node
/// confirms (`ConfirmLinks`) that the user's partition recorded it. The leader re-sends what
/// stays pending, so a node that stopped before its follow-ups succeeded loses nothing.
public struct PendingLink: Hashable, Codable, Sendable {
    public let user: UserID
    /// The seq of the cart event that made the change (what `LinkCart.cartSeq` carries).
    public let seq: Seq
    /// A link (the user is the owner or shared) or an unlink.
    public let linked: Bool
    /// When the change happened (the proposing leader's clock): a sweep re-sends only what
    /// has stayed pending for a while, not what a node is still sending.
    public let since: Timestamp

    public init(user: UserID, seq: Seq, linked: Bool, since: Timestamp) {
        self.user = user
        self.seq = seq
        self.linked = linked
        self.since = since
    }

    enum CodingKeys: Int, CodingKey { case user = 1, seq = 2, linked = 3, since = 4 }
}

/// A user's link to a cart as of a cart seq: what `ConfirmLinks` says was recorded.
public struct LinkAtSeq: Hashable, Codable, Sendable {
    public let cart: CartID
    public let user: UserID
    public let seq: Seq

    public init(cart: CartID, user: UserID, seq: Seq) {
        self.cart = cart
        self.user = user
        self.seq = seq
    }

    enum CodingKeys: Int, CodingKey { case cart = 1, user = 2, seq = 3 }
}

/// A cart's pending links, sorted by user, one per user, for snapshots.
public struct PendingLinks: Hashable, Codable, Sendable {
    public var links: [PendingLink]

    public init(links: [PendingLink]) { self.links = links }

    enum CodingKeys: Int, CodingKey { case links = 1 }
}
