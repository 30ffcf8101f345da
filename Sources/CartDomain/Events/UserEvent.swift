import CartTypes

/// User events on a user partition.
public enum UserEvent: Hashable, Codable, Sendable {
    case registered(UserRegistered)
    case cartLinked(UserCartLinked)
    case cartUnlinked(UserCartUnlinked)

    public var name: String {
        switch self {
        case .registered: "UserRegistered"
        case .cartLinked: "UserCartLinked"
        case .cartUnlinked: "UserCartUnlinked"
        }
    }

    enum CodingKeys: Int, CodingKey { case registered = 1, cartLinked, cartUnlinked }
}

public struct UserRegistered: Hashable, Codable, Sendable {
    public let user: UserID
    public let passwordHash: [UInt8]
    public let timestamp: Timestamp
    public init(user: UserID, passwordHash: [UInt8], timestamp: Timestamp) {
        self.user = user
        self.passwordHash = passwordHash
        self.timestamp = timestamp
    }
    enum CodingKeys: Int, CodingKey { case user = 1, passwordHash = 2, timestamp = 3 }
}

/// `cartSeq`: the cart seq the link is as of (`LinkCart.cartSeq`), recorded in the user's
/// `linkMarks`; nil for links made without one.
public struct UserCartLinked: Hashable, Codable, Sendable {
    public let user: UserID
    public let link: CartLink
    public let cartSeq: Seq?
    public init(user: UserID, link: CartLink, cartSeq: Seq? = nil) {
        self.user = user
        self.link = link
        self.cartSeq = cartSeq
    }
    enum CodingKeys: Int, CodingKey { case user = 1, link = 2, cartSeq = 3 }
}

/// `cartSeq`: the cart seq the removal is as of (`UnlinkCart.cartSeq`); with one, the removal
/// is remembered even when there was no link, so an older link arriving later is ignored.
public struct UserCartUnlinked: Hashable, Codable, Sendable {
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
