import CartTypes

/// The stock one checkout holds on one item partition, and what became of it.
///
/// Records are kept after they settle (committed or released) so that a late or repeated
/// saga step with the same checkout id is answered the same way instead of reserving twice.
public struct Reservation: Hashable, Codable, Sendable {
    public enum Status: UInt8, Hashable, Codable, Sendable {
        /// Units are moved from stock to reserved and wait for commit or release.
        case held = 1
        /// The checkout completed: the units are sold.
        case committed = 2
        /// The checkout was aborted (or released before it reserved): the units are back in stock.
        case released = 3
    }

    public let checkout: CheckoutID
    /// Sorted by item id, one line per item.
    public let lines: [StockLine]
    public var status: Status

    public init(checkout: CheckoutID, lines: [StockLine], status: Status) {
        self.checkout = checkout
        self.lines = lines
        self.status = status
    }

    enum CodingKeys: Int, CodingKey {
        case checkout = 1, lines = 2, status = 3
    }
}
