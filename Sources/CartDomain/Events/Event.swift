/// What happened on a partition. Events are the output of deciding a command and the only
/// input of `PartitionState.apply(event:)`: replaying a partition's events from empty
/// rebuilds its carts, items, users, reservations and histories.
public enum Event: Hashable, Codable, Sendable {
    case cart(CartEvent)
    case item(ItemEvent)
    case user(UserEvent)

    /// The seed's event name (`CartItemAdded`, `StockReserved`, …), for logs and tools.
    public var name: String {
        switch self {
        case .cart(let event): event.change.name
        case .item(let event): event.name
        case .user(let event): event.name
        }
    }

    enum CodingKeys: Int, CodingKey { case cart = 1, item = 2, user = 3 }
}
