import CartTypes

/// A registered user and the carts they own or share (the seed's `user_cart_sharing`).
///
/// The user id is the username. The password hash is computed by the gateway (PBKDF2) and
/// stored as opaque bytes: the domain never sees a password.
public struct User: Hashable, Codable, Sendable {
    public let id: UserID
    public let passwordHash: [UInt8]
    public let registeredAt: Timestamp
    /// Sorted by cart id, one link per cart.
    public private(set) var carts: [CartLink]

    public init(id: UserID, passwordHash: [UInt8], registeredAt: Timestamp, carts: [CartLink] = []) {
        self.id = id
        self.passwordHash = passwordHash
        self.registeredAt = registeredAt
        self.carts = carts
    }

    public func link(for cart: CartID) -> CartLink? {
        guard case .found(let index) = linkPosition(of: cart) else { return nil }
        return carts[index]
    }

    /// Adds or replaces the link for `link.cart`, keeping `carts` sorted.
    mutating func setLink(_ link: CartLink) {
        switch linkPosition(of: link.cart) {
        case .found(let index): carts[index] = link
        case .insertAt(let index): carts.insert(link, at: index)
        }
    }

    mutating func removeLink(for cart: CartID) {
        if case .found(let index) = linkPosition(of: cart) { carts.remove(at: index) }
    }

    private enum Position { case found(Int), insertAt(Int) }

    private func linkPosition(of cart: CartID) -> Position {
        var low = 0
        var high = carts.count
        while low < high {
            let mid = (low + high) / 2
            if carts[mid].cart == cart { return .found(mid) }
            if carts[mid].cart < cart { low = mid + 1 } else { high = mid }
        }
        return .insertAt(low)
    }

    enum CodingKeys: Int, CodingKey {
        case id = 1, passwordHash = 2, registeredAt = 3, carts = 4
    }
}

/// A user's relation to one cart.
public struct CartLink: Hashable, Codable, Sendable {
    public enum Role: UInt8, Hashable, Codable, Sendable {
        case owner = 1
        case shared = 2
    }

    public let cart: CartID
    public let role: Role

    public init(cart: CartID, role: Role) {
        self.cart = cart
        self.role = role
    }

    enum CodingKeys: Int, CodingKey {
        case cart = 1, role = 2
    }
}
