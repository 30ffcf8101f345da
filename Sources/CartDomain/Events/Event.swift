/// What happened on a partition. Events are the output of deciding a command and the only
/// input of `PartitionState.apply(event:)`: replaying a partition's events from empty
/// rebuilds its carts, items, users, reservations and histories.
public enum Event: Hashable, Codable, Sendable {
    case cart(CartEvent)
    case item(ItemEvent)
    case user(UserEvent)
    /// Pending links confirmed on a cart partition (`ConfirmLinks`): no cart changes, so
    /// no seq, version or history entry.
    case links(LinksConfirmed)

    /// The seed's event name (`CartItemAdded`, `StockReserved`, …), for logs and tools.
    public var name: String {
        switch self {
        case .cart(let event): event.change.name
        case .item(let event): event.name
        case .user(let event): event.name
        case .links: "LinksConfirmed"
        }
    }

    enum CodingKeys: Int, CodingKey { case cart = 1, item = 2, user = 3, links = 4 }
}

/// The pending links `ConfirmLinks` ended (those still pending at the confirmed seq).
public struct LinksConfirmed: Hashable, Codable, Sendable {
    public let links: [LinkAtSeq]
    public init(links: [LinkAtSeq]) { self.links = links }
    enum CodingKeys: Int, CodingKey { case links = 1 }
}
