import CartDomain
import CartTypes
import NIOConcurrencyHelpers

// The checkouts of the `verify` workload. A few scarce items start with little stock and are
// restocked a little at a time while carts holding their units check out, so the stock runs
// out again and again and checkouts race for the last units while faults are injected. Once
// every checkout has settled, each unit an item lost must be in exactly one checked-out cart:
// none sold twice, none lost to a reservation left behind, and the stock never below zero
// (ARCHITECTURE.md: "Checkout reserves stock on the items' partitions as a saga … a crash
// mid-checkout resumes or compensates; stock never goes negative").

/// A scarce item and the units it was given.
public struct ScarceItem: Sendable, Equatable {
    public let item: ItemID
    /// The initial stock plus every acknowledged restock; nil once a restock went unanswered
    /// (it may or may not have been applied, so the item's units cannot be counted).
    public var supplied: Int64?

    public init(item: ItemID, supplied: Int64?) {
        self.item = item
        self.supplied = supplied
    }
}

/// One cart of the checkout workers: `quantity` units of `item` (an acknowledged add), then
/// a checkout and what the cluster answered.
public struct CheckoutCart: Sendable, Equatable {
    public enum Outcome: String, Sendable, Equatable {
        /// The checkout completed: the cart must be checked out.
        case completed
        /// Refused (an item was short): nothing reserved, the cart must be active.
        case refused
        /// No answer while the request could be repeated with its key: either.
        case unanswered
    }

    public let cart: CartID
    let ownerIndex: Int
    public let item: ItemID
    public let quantity: Int64
    public let outcome: Outcome

    public init(cart: CartID, ownerIndex: Int = 0, item: ItemID, quantity: Int64, outcome: Outcome) {
        self.cart = cart
        self.ownerIndex = ownerIndex
        self.item = item
        self.quantity = quantity
        self.outcome = outcome
    }
}

/// The checks of the checkout part of `verify`, pure.
public enum StockCheck {
    /// Checks `carts` (each as its leader serves it once every checkout settled) and `items`
    /// (each scarce item as its partition serves it then) against what the workers were told.
    public static func check(_ scarce: [ScarceItem], items: [ItemID: Item], carts: [(CheckoutCart, Cart)]) -> [LedgerViolation] {
        var violations: [LedgerViolation] = []
        var inCheckedOutCarts: [ItemID: Int64] = [:]
        for (ledger, cart) in carts {
            let held = cart.line(for: ledger.item)?.quantity ?? 0
            if held != ledger.quantity {
                violations.append(LedgerViolation(cart: ledger.cart, "holds \(held) × \(ledger.item); \(ledger.quantity) were added"))
            }
            switch (ledger.outcome, cart.status) {
            case (.completed, .checkedOut), (.refused, .active), (.unanswered, .checkedOut), (.unanswered, .active):
                break
            default:
                violations.append(LedgerViolation(cart: ledger.cart, "checkout \(ledger.outcome.rawValue), yet the cart is \(cart.status)"))
            }
            if cart.status == .checkedOut { inCheckedOutCarts[ledger.item, default: 0] += held }
        }
        for item in scarce {
            guard let state = items[item.item] else {
                violations.append(LedgerViolation(item: item.item, "not read back"))
                continue
            }
            if state.stock < 0 { violations.append(LedgerViolation(item: item.item, "stock \(state.stock) is below zero")) }
            if state.reserved != 0 {
                violations.append(LedgerViolation(item: item.item, "\(state.reserved) units still reserved after every checkout settled"))
            }
            if let supplied = item.supplied {
                let sold = supplied - state.stock - state.reserved
                let inCarts = inCheckedOutCarts[item.item] ?? 0
                if sold != inCarts {
                    violations.append(LedgerViolation(item: item.item, "\(sold) of its \(supplied) units left the stock, but \(inCarts) are in checked-out carts"))
                }
            }
        }
        return violations
    }
}

/// What the checkout workers and the restocker did, as they did it.
final class StockLedger: Sendable {
    private struct State {
        var items: [ScarceItem]
        var carts: [CheckoutCart] = []
        /// Adds refused because the item's stock was short (the availability check).
        var addsOutOfStock = 0
    }

    private let state: NIOLockedValueBox<State>

    init(items: [ScarceItem]) { state = NIOLockedValueBox(State(items: items)) }

    func finished(_ cart: CheckoutCart) { state.withLockedValue { $0.carts.append(cart) } }
    func addOutOfStock() { state.withLockedValue { $0.addsOutOfStock += 1 } }

    /// A restock of `units` was acknowledged (`true`) or went unanswered.
    func restocked(_ item: ItemID, units: Int64, acknowledged: Bool) {
        state.withLockedValue { state in
            guard let index = state.items.firstIndex(where: { $0.item == item }) else { return }
            state.items[index].supplied = acknowledged ? state.items[index].supplied.map { $0 + units } : nil
        }
    }

    var items: [ScarceItem] { state.withLockedValue { $0.items } }
    var carts: [CheckoutCart] { state.withLockedValue { $0.carts } }
    var addsOutOfStock: Int { state.withLockedValue { $0.addsOutOfStock } }
}
