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
    /// As of which cart seq each link, or its removal, was recorded (links made with a
    /// `cartSeq`), sorted by cart id, one per cart. A link or unlink not newer than its cart's
    /// mark is stale and changes nothing. Marks of removals (`linked == false`) outlive the
    /// link so that a late link cannot bring an unshared user back; at most
    /// `DomainLimits.cartsPerUserMax` of them are kept.
    public private(set) var linkMarks: [CartLinkMark]

    public init(id: UserID, passwordHash: [UInt8], registeredAt: Timestamp, carts: [CartLink] = [],
                linkMarks: [CartLinkMark] = []) {
        self.id = id
        self.passwordHash = passwordHash
        self.registeredAt = registeredAt
        self.carts = carts
        self.linkMarks = linkMarks
    }

    public func link(for cart: CartID) -> CartLink? {
        guard case .found(let index) = Self.position(of: cart, in: carts, \.cart) else { return nil }
        return carts[index]
    }

    public func mark(for cart: CartID) -> CartLinkMark? {
        guard case .found(let index) = Self.position(of: cart, in: linkMarks, \.cart) else { return nil }
        return linkMarks[index]
    }

    /// Adds or replaces the link for `link.cart`, keeping `carts` sorted.
    mutating func setLink(_ link: CartLink) {
        switch Self.position(of: link.cart, in: carts, \.cart) {
        case .found(let index): carts[index] = link
        case .insertAt(let index): carts.insert(link, at: index)
        }
    }

    mutating func removeLink(for cart: CartID) {
        if case .found(let index) = Self.position(of: cart, in: carts, \.cart) { carts.remove(at: index) }
    }

    /// Adds or replaces the mark for `mark.cart`; past `removalsMax` marks of removals, the
    /// removal marks of the lowest cart ids other than this one are dropped.
    mutating func setMark(_ mark: CartLinkMark, removalsMax: Int) {
        switch Self.position(of: mark.cart, in: linkMarks, \.cart) {
        case .found(let index): linkMarks[index] = mark
        case .insertAt(let index): linkMarks.insert(mark, at: index)
        }
        var excess = linkMarks.lazy.filter { !$0.linked }.count - removalsMax
        guard excess > 0 else { return }
        linkMarks.removeAll { candidate in
            guard excess > 0, !candidate.linked, candidate.cart != mark.cart else { return false }
            excess -= 1
            return true
        }
    }

    private enum Position { case found(Int), insertAt(Int) }

    private static func position<Element>(of cart: CartID, in sorted: [Element], _ key: KeyPath<Element, CartID>) -> Position {
        var low = 0
        var high = sorted.count
        while low < high {
            let mid = (low + high) / 2
            let candidate = sorted[mid][keyPath: key]
            if candidate == cart { return .found(mid) }
            if candidate < cart { low = mid + 1 } else { high = mid }
        }
        return .insertAt(low)
    }

    enum CodingKeys: Int, CodingKey {
        case id = 1, passwordHash = 2, registeredAt = 3, carts = 4, linkMarks = 5
    }
}

/// The cart seq as of which a user's link to a cart was recorded (`linked`) or removed.
public struct CartLinkMark: Hashable, Codable, Sendable {
    public let cart: CartID
    public let seq: Seq
    public let linked: Bool

    public init(cart: CartID, seq: Seq, linked: Bool) {
        self.cart = cart
        self.seq = seq
        self.linked = linked
    }

    enum CodingKeys: Int, CodingKey {
        case cart = 1, seq = 2, linked = 3
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
