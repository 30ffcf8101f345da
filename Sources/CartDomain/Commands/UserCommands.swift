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
public struct LinkCart: Hashable, Codable, Sendable {
    public let user: UserID
    public let cart: CartID
    public let role: CartLink.Role

    public init(user: UserID, cart: CartID, role: CartLink.Role) {
        self.user = user
        self.cart = cart
        self.role = role
    }

    enum CodingKeys: Int, CodingKey { case user = 1, cart = 2, role = 3 }
}

/// Removes the link after `UnshareCart` (or as compensation); repeating it changes nothing.
public struct UnlinkCart: Hashable, Codable, Sendable {
    public let user: UserID
    public let cart: CartID

    public init(user: UserID, cart: CartID) {
        self.user = user
        self.cart = cart
    }

    enum CodingKeys: Int, CodingKey { case user = 1, cart = 2 }
}
