import CartTypes

/// Everything a partition can be asked to do. Each case wraps one command struct so the
/// binary encoding is uniform (a case number, then the struct as a nested message).
///
/// Cart commands go to the cart's partition, item and stock commands to the item's
/// partition, user commands to the user's partition (`PartitionMap` decides). A checkout
/// spans partitions: see `Saga.md` beside this module's sources.
public enum Command: Hashable, Codable, Sendable {
    // Carts (cart partition)
    case createCart(CreateCart)
    case addItem(AddItem)
    case removeItem(RemoveItem)
    case setQuantity(SetQuantity)
    case shareCart(ShareCart)
    case unshareCart(UnshareCart)
    case confirmLinks(ConfirmLinks)
    // Checkout saga, cart side (cart partition)
    case beginCheckout(BeginCheckout)
    case completeCheckout(CompleteCheckout)
    case abortCheckout(AbortCheckout)
    case settleCheckout(SettleCheckout)
    // Catalogue and stock (item partition)
    case putItem(PutItem)
    case adjustStock(AdjustStock)
    case reserveStock(ReserveStock)
    case releaseStock(ReleaseStock)
    case commitReservation(CommitReservation)
    // Users (user partition)
    case registerUser(RegisterUser)
    case linkCart(LinkCart)
    case unlinkCart(UnlinkCart)

    enum CodingKeys: Int, CodingKey {
        case createCart = 1, addItem, removeItem, setQuantity, shareCart, unshareCart, confirmLinks
        case beginCheckout = 20, completeCheckout, abortCheckout, settleCheckout
        case putItem = 40, adjustStock, reserveStock, releaseStock, commitReservation
        case registerUser = 60, linkCart, unlinkCart
    }
}

/// A command as it is proposed to the partition's Raft log: the command, the time the
/// proposing leader assigned to it, and, for client requests, the key that makes a retry
/// return the original result.
public struct CommandEnvelope: Hashable, Codable, Sendable {
    public let command: Command
    public let timestamp: Timestamp
    public let request: RequestKey?

    public init(_ command: Command, at timestamp: Timestamp, request: RequestKey? = nil) {
        self.command = command
        self.timestamp = timestamp
        self.request = request
    }

    enum CodingKeys: Int, CodingKey {
        case command = 1, timestamp = 2, request = 3
    }
}
