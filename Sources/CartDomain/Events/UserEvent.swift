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

public struct UserCartLinked: Hashable, Codable, Sendable {
    public let user: UserID
    public let link: CartLink
    public init(user: UserID, link: CartLink) {
        self.user = user
        self.link = link
    }
    enum CodingKeys: Int, CodingKey { case user = 1, link = 2 }
}

public struct UserCartUnlinked: Hashable, Codable, Sendable {
    public let user: UserID
    public let cart: CartID
    public init(user: UserID, cart: CartID) {
        self.user = user
        self.cart = cart
    }
    enum CodingKeys: Int, CodingKey { case user = 1, cart = 2 }
}
