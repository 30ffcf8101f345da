import CartTypes

// Catalogue and stock commands, applied on the item's partition.

/// Creates an item or replaces its name and price (an admin operation). Creating sets the
/// initial stock; replacing keeps the current stock and reservations.
public struct PutItem: Hashable, Codable, Sendable {
    public let item: ItemID
    public let name: String
    public let price: Money
    /// Used only when the item is new.
    public let initialStock: Int64

    public init(item: ItemID, name: String, price: Money, initialStock: Int64) {
        self.item = item
        self.name = name
        self.price = price
        self.initialStock = initialStock
    }

    enum CodingKeys: Int, CodingKey { case item = 1, name = 2, price = 3, initialStock = 4 }
}

/// Adds (positive delta) or removes (negative delta) available units. Removing more than
/// is available fails with `insufficientStock`: stock never goes negative.
public struct AdjustStock: Hashable, Codable, Sendable {
    public let item: ItemID
    public let delta: Int64

    public init(item: ItemID, delta: Int64) {
        self.item = item
        self.delta = delta
    }

    enum CodingKeys: Int, CodingKey { case item = 1, delta = 2 }
}

/// Reserves the lines of one checkout that live on this partition: all or nothing, and
/// idempotent by checkout id (a repeat of a held or committed reservation changes nothing).
public struct ReserveStock: Hashable, Codable, Sendable {
    public let checkout: CheckoutID
    public let lines: [StockLine]

    public init(checkout: CheckoutID, lines: [StockLine]) {
        self.checkout = checkout
        self.lines = lines
    }

    enum CodingKeys: Int, CodingKey { case checkout = 1, lines = 2 }
}

/// Returns a checkout's reserved units to stock. Idempotent; releasing a checkout this
/// partition never reserved records a tombstone so a late `ReserveStock` is refused.
public struct ReleaseStock: Hashable, Codable, Sendable {
    public let checkout: CheckoutID

    public init(checkout: CheckoutID) { self.checkout = checkout }

    enum CodingKeys: Int, CodingKey { case checkout = 1 }
}

/// Turns a held reservation into a sale. Idempotent.
public struct CommitReservation: Hashable, Codable, Sendable {
    public let checkout: CheckoutID

    public init(checkout: CheckoutID) { self.checkout = checkout }

    enum CodingKeys: Int, CodingKey { case checkout = 1 }
}
