import CartDomain
import CartRPC
import CartTypes
import CartWire

/// `User.register`: creates the user `user` (the username) with a password. The node stores
/// only a PBKDF2-HMAC-SHA256 hash with a per-user salt. Needs no token.
public struct RegisterUserRequest: Codable, Hashable, Sendable, RPCMessage {
    public var user: UserID
    public var password: String
    public var request: RequestKey

    public init(user: UserID, password: String, request: RequestKey) {
        self.user = user
        self.password = password
        self.request = request
    }

    enum CodingKeys: Int, CodingKey { case user = 1, password = 2, request = 3 }
}

/// `User.login`: checks the password and returns a signed token to put in the hello of later
/// connections (`Hello.authToken`). A wrong user or password gets `unauthenticated` (the
/// same answer for both). Needs no token.
public struct LoginRequest: Codable, Hashable, Sendable, RPCMessage {
    public var user: UserID
    public var password: String

    public init(user: UserID, password: String) {
        self.user = user
        self.password = password
    }

    enum CodingKeys: Int, CodingKey { case user = 1, password = 2 }
}

/// `User.get`, `User.carts`: about a user. A user may only ask about themselves.
public struct UserRequest: Codable, Hashable, Sendable, RPCMessage {
    public var user: UserID

    public init(user: UserID) { self.user = user }

    enum CodingKeys: Int, CodingKey { case user = 1 }
}

/// `User.canAccess`: whether `user` may read and change `cart` (owner or shared user),
/// decided at the cart's partition from the cart's member list.
public struct CanAccessRequest: Codable, Hashable, Sendable, RPCMessage {
    public var user: UserID
    public var cart: CartID

    public init(user: UserID, cart: CartID) {
        self.user = user
        self.cart = cart
    }

    enum CodingKeys: Int, CodingKey { case user = 1, cart = 2 }
}

// MARK: Replies

public struct RegisterUserReply: Codable, Hashable, Sendable, RPCMessage {
    public var user: UserID

    public init(user: UserID) { self.user = user }

    enum CodingKeys: Int, CodingKey { case user = 1 }
}

public struct LoginReply: Codable, Hashable, Sendable, RPCMessage {
    public var user: UserID
    /// Opaque to clients; send it as `Hello.authToken`.
    public var token: String
    /// Unix milliseconds after which the token is refused; log in again before then.
    public var expiresAtMs: Int64

    public init(user: UserID, token: String, expiresAtMs: Int64) {
        self.user = user
        self.token = token
        self.expiresAtMs = expiresAtMs
    }

    enum CodingKeys: Int, CodingKey { case user = 1, token = 2, expiresAtMs = 3 }
}

/// A user without secrets: never the password hash.
public struct UserReply: Codable, Hashable, Sendable, RPCMessage {
    public var user: UserID
    public var registeredAt: Timestamp
    public var carts: [CartLink]

    public init(user: UserID, registeredAt: Timestamp, carts: [CartLink]) {
        self.user = user
        self.registeredAt = registeredAt
        self.carts = carts
    }

    enum CodingKeys: Int, CodingKey { case user = 1, registeredAt = 2, carts = 3 }
}

public struct UserCartsReply: Codable, Hashable, Sendable, RPCMessage {
    /// Sorted by cart id: the carts the user owns or that are shared with them.
    public var carts: [CartLink]

    public init(carts: [CartLink]) { self.carts = carts }

    enum CodingKeys: Int, CodingKey { case carts = 1 }
}

public struct CanAccessReply: Codable, Hashable, Sendable, RPCMessage {
    public var allowed: Bool

    public init(allowed: Bool) { self.allowed = allowed }

    enum CodingKeys: Int, CodingKey { case allowed = 1 }
}
