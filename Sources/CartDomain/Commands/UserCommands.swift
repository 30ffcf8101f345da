import CartTypes

// User commands, applied on the user's partition.

/// Registers a user. `passwordHash` is computed by the gateway (PBKDF2 with salt and
/// parameters encoded in the bytes); the domain stores it and never sees a password.
public struct RegisterUser: Hashable, Codable, Sendable {
    public let user: UserID
    public let passwordHash: [UInt8]

    public init(user: UserID, passwordHash: [UInt8]) {
        self.user = user
        self.passwordHash = passwordHash
    }

    enum CodingKeys: Int, CodingKey { case user = 1, passwordHash = 2 }
}

/// Records on the user's partition that `user` owns or shares `cart`. Sent by the node after
/// the cart's partition accepted `CreateCart` or `ShareCart`; repeating it changes nothing.
///
/// `cartSeq` is the seq of the cart event that made the link (the create's or the share's):
/// links and unlinks of one user and cart are sent independently and may arrive in any
/// order, so the user partition keeps the highest seq it has seen and takes only newer ones
/// (`User.linkMarks`). Without it (entries written before it existed) a link is applied as
/// it comes.
public struct LinkCart: Hashable, Codable, Sendable {
    public let user: UserID
    public let cart: CartID
    public let role: CartLink.Role
    public let cartSeq: Seq?

    public init(user: UserID, cart: CartID, role: CartLink.Role, cartSeq: Seq? = nil) {
        self.user = user
        self.cart = cart
        self.role = role
        self.cartSeq = cartSeq
    }

    enum CodingKeys: Int, CodingKey { case user = 1, cart = 2, role = 3, cartSeq = 4 }
}

/// Removes the link after `UnshareCart` (or as compensation); repeating it changes nothing.
/// `cartSeq`: the seq of the `CartUnshared` event, as in `LinkCart`.
public struct UnlinkCart: Hashable, Codable, Sendable {
    public let user: UserID
    public let cart: CartID
    public let cartSeq: Seq?

    public init(user: UserID, cart: CartID, cartSeq: Seq? = nil) {
        self.user = user
        self.cart = cart
        self.cartSeq = cartSeq
    }

    enum CodingKeys: Int, CodingKey { case user = 1, cart = 2, cartSeq = 3 }
}
