import CartTypes

/// Catalogue and stock events on an item partition.
public enum ItemEvent: Hashable, Codable, Sendable {
    case itemPut(ItemPut)
    case stockAdjusted(StockAdjusted)
    case stockReserved(StockReserved)
    case stockReleased(StockReleased)
    case reservationCommitted(ReservationCommitted)

    public var name: String {
        switch self {
        case .itemPut: "ItemPut"
        case .stockAdjusted: "StockAdjusted"
        case .stockReserved: "StockReserved"
        case .stockReleased: "StockReleased"
        case .reservationCommitted: "ReservationCommitted"
        }
    }

    enum CodingKeys: Int, CodingKey {
        case itemPut = 1, stockAdjusted, stockReserved, stockReleased, reservationCommitted
    }
}

/// The item as it is after the put (new items start with their initial stock).
public struct ItemPut: Hashable, Codable, Sendable {
    public let item: Item
    public init(item: Item) { self.item = item }
    enum CodingKeys: Int, CodingKey { case item = 1 }
}

public struct StockAdjusted: Hashable, Codable, Sendable {
    public let item: ItemID
    public let delta: Int64
    /// Available units after the adjustment.
    public let stock: Int64
    public init(item: ItemID, delta: Int64, stock: Int64) {
        self.item = item
        self.delta = delta
        self.stock = stock
    }
    enum CodingKeys: Int, CodingKey { case item = 1, delta = 2, stock = 3 }
}

/// Units moved from stock to reserved for `checkout`, one line per item (sorted).
public struct StockReserved: Hashable, Codable, Sendable {
    public let checkout: CheckoutID
    public let lines: [StockLine]
    public init(checkout: CheckoutID, lines: [StockLine]) {
        self.checkout = checkout
        self.lines = lines
    }
    enum CodingKeys: Int, CodingKey { case checkout = 1, lines = 2 }
}

/// Reserved units returned to stock. Empty `lines` records a release of a checkout this
/// partition never reserved (a tombstone that refuses a late reservation).
public struct StockReleased: Hashable, Codable, Sendable {
    public let checkout: CheckoutID
    public let lines: [StockLine]
    public init(checkout: CheckoutID, lines: [StockLine]) {
        self.checkout = checkout
        self.lines = lines
    }
    enum CodingKeys: Int, CodingKey { case checkout = 1, lines = 2 }
}

/// Reserved units sold.
public struct ReservationCommitted: Hashable, Codable, Sendable {
    public let checkout: CheckoutID
    public let lines: [StockLine]
    public init(checkout: CheckoutID, lines: [StockLine]) {
        self.checkout = checkout
        self.lines = lines
    }
    enum CodingKeys: Int, CodingKey { case checkout = 1, lines = 2 }
}
