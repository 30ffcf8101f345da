import CartTypes

/// A catalogue item as its own partition stores it.
///
/// `stock` counts units that can still be reserved; `reserved` counts units held by
/// checkouts in progress. A reservation moves units from `stock` to `reserved`; a release
/// moves them back; a commit removes them from `reserved` (they are sold). Neither count is
/// ever negative.
public struct Item: Hashable, Codable, Sendable {
    public let id: ItemID
    public var name: String
    public var price: Money
    public var stock: Int64
    public var reserved: Int64

    public init(id: ItemID, name: String, price: Money, stock: Int64, reserved: Int64 = 0) {
        self.id = id
        self.name = name
        self.price = price
        self.stock = stock
        self.reserved = reserved
    }

    enum CodingKeys: Int, CodingKey {
        case id = 1, name = 2, price = 3, stock = 4, reserved = 5
    }
}

/// A quantity of one item: a line of a checkout, of a reservation or of a release.
public struct StockLine: Hashable, Codable, Sendable {
    public let item: ItemID
    public let quantity: Int64

    public init(item: ItemID, quantity: Int64) {
        self.item = item
        self.quantity = quantity
    }

    enum CodingKeys: Int, CodingKey {
        case item = 1, quantity = 2
    }
}
