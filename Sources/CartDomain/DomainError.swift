import CartTypes

/// Why a command was refused. Every case has a stable numeric `code` (never reused or
/// renumbered: clients and the wire see it), a human `message`, and a `category` the node
/// maps to a wire error code. A refused command changes nothing.
public enum DomainError: Error, Hashable, Codable, Sendable, CustomStringConvertible {
    case invalidArgument(String)
    case invalidQuantity(Int64)
    case cartNotFound(CartID)
    case itemNotFound(ItemID)
    case itemNotInCart(ItemID)
    case userNotFound(UserID)
    case permissionDenied(UserID)
    case cartClosed(CartStatus)
    case versionConflict(current: Version)
    case insufficientStock(item: ItemID, available: Int64)
    case tooManyItems(max: Int)
    case tooManyShares(max: Int)
    case tooManyCarts(max: Int)
    case partitionFull(max: Int)
    case cartAlreadyExists(CartID)
    case userAlreadyExists(UserID)
    case alreadyShared(UserID)
    case notShared(UserID)
    case cartEmpty
    case checkoutMismatch(current: CheckoutID?)
    case checkoutUnsettled(CheckoutID)
    case reservationNotFound(CheckoutID)
    case reservationReleased(CheckoutID)
    case reservationCommitted(CheckoutID)
    case tooManyReservations(max: Int)
    case amountOverflow
    case historyTruncated(oldest: Seq)
    case checkoutAborted(CheckoutID)
    case checkoutCompleted(CheckoutID)
    case checkoutUndecided(CheckoutID)

    /// Broad classes of failure, for mapping onto the wire's error codes.
    public enum Category: UInt8, Hashable, Sendable {
        case invalidArgument = 1, notFound, alreadyExists, permissionDenied
        case failedPrecondition, aborted, resourceExhausted, outOfRange
    }

    public var code: UInt16 {
        switch self {
        case .invalidArgument: 1
        case .invalidQuantity: 2
        case .cartNotFound: 3
        case .itemNotFound: 4
        case .itemNotInCart: 5
        case .userNotFound: 6
        case .permissionDenied: 7
        case .cartClosed: 8
        case .versionConflict: 9
        case .insufficientStock: 10
        case .tooManyItems: 11
        case .tooManyShares: 12
        case .tooManyCarts: 13
        case .partitionFull: 14
        case .cartAlreadyExists: 15
        case .userAlreadyExists: 16
        case .alreadyShared: 17
        case .notShared: 18
        case .cartEmpty: 19
        case .checkoutMismatch: 20
        case .checkoutUnsettled: 21
        case .reservationNotFound: 22
        case .reservationReleased: 23
        case .reservationCommitted: 24
        case .tooManyReservations: 25
        case .amountOverflow: 26
        case .historyTruncated: 27
        case .checkoutAborted: 28
        case .checkoutCompleted: 29
        case .checkoutUndecided: 30
        }
    }

    public var category: Category {
        switch self {
        case .invalidArgument, .invalidQuantity, .cartEmpty: .invalidArgument
        case .cartNotFound, .itemNotFound, .itemNotInCart, .userNotFound, .notShared,
             .reservationNotFound: .notFound
        case .cartAlreadyExists, .userAlreadyExists, .alreadyShared: .alreadyExists
        case .permissionDenied: .permissionDenied
        case .cartClosed, .insufficientStock, .checkoutMismatch, .checkoutUnsettled,
             .reservationReleased, .reservationCommitted, .checkoutAborted, .checkoutCompleted,
             .checkoutUndecided: .failedPrecondition
        case .versionConflict: .aborted
        case .tooManyItems, .tooManyShares, .tooManyCarts, .partitionFull, .tooManyReservations:
            .resourceExhausted
        case .amountOverflow, .historyTruncated: .outOfRange
        }
    }

    public var message: String {
        switch self {
        case .invalidArgument(let what): "invalid argument: \(what)"
        case .invalidQuantity(let quantity): "invalid quantity \(quantity): must be positive and within the limit"
        case .cartNotFound(let cart): "cart \(cart) not found"
        case .itemNotFound(let item): "item \(item) not found"
        case .itemNotInCart(let item): "item \(item) is not in the cart"
        case .userNotFound(let user): "user \(user) not found"
        case .permissionDenied(let user): "permission denied for user \(user)"
        case .cartClosed(let status): "cart is closed (\(status)): nothing can change"
        case .versionConflict(let current): "version conflict: cart is at version \(current.rawValue)"
        case .insufficientStock(let item, let available): "insufficient stock for \(item): \(available) available"
        case .tooManyItems(let max): "too many items: a cart holds at most \(max)"
        case .tooManyShares(let max): "too many shares: a cart is shared with at most \(max) users"
        case .tooManyCarts(let max): "too many carts: a user has at most \(max)"
        case .partitionFull(let max): "partition full: it stores at most \(max) records of this kind"
        case .cartAlreadyExists(let cart): "cart \(cart) already exists"
        case .userAlreadyExists(let user): "user \(user) already exists"
        case .alreadyShared(let user): "cart is already shared with \(user)"
        case .notShared(let user): "cart is not shared with \(user)"
        case .cartEmpty: "cart is empty: nothing to check out"
        case .checkoutMismatch(let current):
            "checkout does not match the cart's current checkout (\(current.map(\.rawValue) ?? "none"))"
        case .checkoutUnsettled(let checkout): "previous checkout \(checkout) is still being settled; retry"
        case .reservationNotFound(let checkout): "no reservation for checkout \(checkout)"
        case .reservationReleased(let checkout): "reservation for checkout \(checkout) was released"
        case .reservationCommitted(let checkout): "reservation for checkout \(checkout) was committed"
        case .tooManyReservations(let max): "too many reservations held: at most \(max)"
        case .amountOverflow: "amount does not fit in 64-bit minor units"
        case .historyTruncated(let oldest): "history truncated: oldest retained event is \(oldest)"
        case .checkoutAborted(let checkout): "checkout \(checkout) was aborted"
        case .checkoutCompleted(let checkout): "checkout \(checkout) already completed"
        case .checkoutUndecided(let checkout): "checkout \(checkout) is neither completed nor aborted yet"
        }
    }

    public var description: String { "[\(code)] \(message)" }

    // Integer keys for the wire's binary encoding: one per case, and one per labelled value.
    enum CodingKeys: Int, CodingKey {
        case invalidArgument = 1, invalidQuantity, cartNotFound, itemNotFound, itemNotInCart
        case userNotFound, permissionDenied, cartClosed, versionConflict, insufficientStock
        case tooManyItems, tooManyShares, tooManyCarts, partitionFull, cartAlreadyExists
        case userAlreadyExists, alreadyShared, notShared, cartEmpty, checkoutMismatch
        case checkoutUnsettled, reservationNotFound, reservationReleased, reservationCommitted
        case tooManyReservations, amountOverflow, historyTruncated, checkoutAborted
        case checkoutCompleted, checkoutUndecided
    }
    enum VersionConflictCodingKeys: Int, CodingKey { case current = 1 }
    enum InsufficientStockCodingKeys: Int, CodingKey { case item = 1, available = 2 }
    enum TooManyItemsCodingKeys: Int, CodingKey { case max = 1 }
    enum TooManySharesCodingKeys: Int, CodingKey { case max = 1 }
    enum TooManyCartsCodingKeys: Int, CodingKey { case max = 1 }
    enum PartitionFullCodingKeys: Int, CodingKey { case max = 1 }
    enum CheckoutMismatchCodingKeys: Int, CodingKey { case current = 1 }
    enum TooManyReservationsCodingKeys: Int, CodingKey { case max = 1 }
    enum HistoryTruncatedCodingKeys: Int, CodingKey { case oldest = 1 }
}
