import CartTypes
import NIOConcurrencyHelpers

/// What the `verify` workload asked of one cart, in the order it asked, and whether the
/// cluster answered. Each add puts a different item in the cart with quantity 1, so an event
/// names the add it came from.
public struct LedgerCart: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        /// The cluster said it was done: it must be in the cart's history, once, in this order.
        case acknowledged
        /// No answer came while the request could still be repeated safely (its key within the
        /// nodes' dedup retention): it may be in the history, at most once.
        case unanswered
    }

    public struct Add: Sendable, Equatable {
        public let item: ItemID
        public let outcome: Outcome

        public init(item: ItemID, outcome: Outcome) {
            self.item = item
            self.outcome = outcome
        }
    }

    public let cart: CartID
    public let owner: UserID
    /// Index of the owner among the load users (whose client reads the cart back).
    let ownerIndex: Int
    public var adds: [Add] = []

    public init(cart: CartID, owner: UserID, ownerIndex: Int = 0, adds: [Add] = []) {
        self.cart = cart
        self.owner = owner
        self.ownerIndex = ownerIndex
        self.adds = adds
    }
}

/// Every worker's finished carts, and what went wrong while writing (a refusal where the
/// cluster had acknowledged what makes the request valid is already a violation).
final class WriteLedger: Sendable {
    private struct State {
        var carts: [LedgerCart] = []
        var violations: [LedgerViolation] = []
        var createsUnanswered = 0
    }

    private let state = NIOLockedValueBox(State())

    func finished(_ cart: LedgerCart) { state.withLockedValue { $0.carts.append(cart) } }
    func violation(_ violation: LedgerViolation) { state.withLockedValue { $0.violations.append(violation) } }
    func createUnanswered() { state.withLockedValue { $0.createsUnanswered += 1 } }

    var carts: [LedgerCart] { state.withLockedValue { $0.carts } }
    var violations: [LedgerViolation] { state.withLockedValue { $0.violations } }
    var createsUnanswered: Int { state.withLockedValue { $0.createsUnanswered } }
}
