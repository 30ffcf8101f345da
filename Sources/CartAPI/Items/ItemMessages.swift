import CartDomain
import CartRPC
import CartTypes
import CartWire

/// `Item.get`: an item's catalogue entry and stock. Served from the node's item cache, which
/// is refreshed whenever this node applies an event of the item; see the node's README for
/// how stale it can be.
public struct GetItemRequest: Codable, Hashable, Sendable, RPCMessage {
    public var item: ItemID

    public init(item: ItemID) { self.item = item }

    enum CodingKeys: Int, CodingKey { case item = 1 }
}

/// `Item.put` (admin): creates an item or replaces its name and price. `initialStock` is used
/// only when the item is new.
public struct PutItemRequest: Codable, Hashable, Sendable, RPCMessage {
    public var item: ItemID
    public var name: String
    public var price: Money
    public var initialStock: Int64
    public var request: RequestKey

    public init(item: ItemID, name: String, price: Money, initialStock: Int64, request: RequestKey) {
        self.item = item
        self.name = name
        self.price = price
        self.initialStock = initialStock
        self.request = request
    }

    enum CodingKeys: Int, CodingKey { case item = 1, name = 2, price = 3, initialStock = 4, request = 5 }
}

/// `Item.adjustStock` (admin): adds (positive) or removes (negative) available units; stock
/// never goes negative (`failedPrecondition`, insufficient stock).
public struct AdjustStockRequest: Codable, Hashable, Sendable, RPCMessage {
    public var item: ItemID
    public var delta: Int64
    public var request: RequestKey

    public init(item: ItemID, delta: Int64, request: RequestKey) {
        self.item = item
        self.delta = delta
        self.request = request
    }

    enum CodingKeys: Int, CodingKey { case item = 1, delta = 2, request = 3 }
}

/// The answer to every item method: the item as it stands.
public struct ItemReply: Codable, Hashable, Sendable, RPCMessage {
    public var item: Item

    public init(item: Item) { self.item = item }

    enum CodingKeys: Int, CodingKey { case item = 1 }
}
