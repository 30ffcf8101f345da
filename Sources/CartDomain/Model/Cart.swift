import CartTypes

/// A shared cart as its partition stores it.
///
/// `version` counts accepted commands (optimistic concurrency); `seq` counts events (the
/// position in the cart's history). One command may emit several events (sharing with
/// several users), so `seq` ≥ `version`, and both only grow.
public struct Cart: Hashable, Codable, Sendable {
    public let id: CartID
    public let owner: UserID
    /// Sorted, without the owner, at most `DomainLimits.sharedUsersMax`.
    public internal(set) var sharedUsers: [UserID]
    /// In the order the items were first added, one line per item.
    public internal(set) var lines: [CartLine]
    public internal(set) var status: CartStatus
    public internal(set) var version: Version
    public internal(set) var seq: Seq
    public let createdAt: Timestamp
    public internal(set) var updatedAt: Timestamp
    /// The latest checkout attempt; kept until its stock steps are settled (see Saga.md).
    public internal(set) var checkout: CheckoutRecord?

    public init(id: CartID, owner: UserID, createdAt: Timestamp) {
        self.id = id
        self.owner = owner
        self.sharedUsers = []
        self.lines = []
        self.status = .active
        self.version = .zero
        self.seq = .zero
        self.createdAt = createdAt
        self.updatedAt = createdAt
        self.checkout = nil
    }

    /// The owner and shared users may read and modify the cart; nobody else may.
    public func isMember(_ user: UserID) -> Bool {
        user == owner || isShared(with: user)
    }

    public func isShared(with user: UserID) -> Bool {
        sharedIndex(of: user) != nil
    }

    public func line(for item: ItemID) -> CartLine? {
        lineIndex(of: item).map { lines[$0] }
    }

    /// Σ quantity × unit price, or nil if it does not fit in 64 bits.
    public func total() -> Money? {
        var sum = Money.zero
        for line in lines {
            guard let amount = line.unitPrice.times(line.quantity), let next = sum.plus(amount) else { return nil }
            sum = next
        }
        return sum
    }

    func lineIndex(of item: ItemID) -> Int? {
        lines.firstIndex { $0.item == item }
    }

    func sharedIndex(of user: UserID) -> Int? {
        // Linear: the list is bounded by `sharedUsersMax` (a handful of people).
        sharedUsers.firstIndex(of: user)
    }

    enum CodingKeys: Int, CodingKey {
        case id = 1, owner = 2, sharedUsers = 3, lines = 4, status = 5, version = 6, seq = 7
        case createdAt = 8, updatedAt = 9, checkout = 10
    }
}

/// The lifecycle of a cart. Only an `active` cart can change; `checkingOut` is entered by
/// `BeginCheckout` and left by `CompleteCheckout` (→ `checkedOut`, final) or `AbortCheckout`
/// (→ `active` again).
public enum CartStatus: UInt8, Hashable, Codable, Sendable, CustomStringConvertible {
    case active = 1
    case checkingOut = 2
    case checkedOut = 3

    public var description: String {
        switch self {
        case .active: "ACTIVE"
        case .checkingOut: "CHECKING_OUT"
        case .checkedOut: "CHECKED_OUT"
        }
    }
}

/// One item in a cart: how many, and the unit price when the item was first added.
public struct CartLine: Hashable, Codable, Sendable {
    public let item: ItemID
    public internal(set) var quantity: Int64
    public let unitPrice: Money

    public init(item: ItemID, quantity: Int64, unitPrice: Money) {
        self.item = item
        self.quantity = quantity
        self.unitPrice = unitPrice
    }

    enum CodingKeys: Int, CodingKey {
        case item = 1, quantity = 2, unitPrice = 3
    }
}

/// A checkout attempt as the cart remembers it, so a coordinator that crashed can resume.
public struct CheckoutRecord: Hashable, Codable, Sendable {
    public enum Outcome: UInt8, Hashable, Codable, Sendable {
        /// Reservations are being taken; the cart is `checkingOut`.
        case pending = 1
        /// The cart is checked out; reservations must be committed.
        case completed = 2
        /// The checkout was abandoned; reservations must be released.
        case aborted = 3
    }

    public let id: CheckoutID
    /// Sorted by item id: what to reserve on the items' partitions.
    public let lines: [StockLine]
    public let total: Money
    public internal(set) var outcome: Outcome
    /// True once every item partition has committed or released this checkout.
    public internal(set) var settled: Bool

    public init(id: CheckoutID, lines: [StockLine], total: Money, outcome: Outcome, settled: Bool) {
        self.id = id
        self.lines = lines
        self.total = total
        self.outcome = outcome
        self.settled = settled
    }

    enum CodingKeys: Int, CodingKey {
        case id = 1, lines = 2, total = 3, outcome = 4, settled = 5
    }
}
