import CartTypes
import NIOConcurrencyHelpers

/// The carts the workload works on. A slot is replaced by a fresh cart once its cart is
/// checked out, so the mix keeps finding open carts.
final class CartSlots: Sendable {
    struct Slot: Sendable {
        let cart: CartID
        /// Index of the owner in the load users; `sharedWith` the user it is shared with.
        let owner: Int
        let sharedWith: Int
        /// An item added to the cart recently, so removes and quantity changes mostly hit a
        /// line that exists (approximate under concurrency, which is fine for a load mix).
        var recentItem: ItemID? = nil
    }

    private let slots: NIOLockedValueBox<[Slot]>

    init(_ slots: [Slot]) {
        precondition(!slots.isEmpty, "a workload needs carts")
        self.slots = NIOLockedValueBox(slots)
    }

    var count: Int { slots.withLockedValue { $0.count } }

    func random() -> (index: Int, slot: Slot) {
        slots.withLockedValue { slots in
            let index = Int.random(in: 0..<slots.count)
            return (index, slots[index])
        }
    }

    func noteAdded(_ item: ItemID?, at index: Int, cart: CartID) {
        slots.withLockedValue { slots in
            if slots[index].cart == cart { slots[index].recentItem = item }
        }
    }

    func replace(_ index: Int, with slot: Slot) {
        slots.withLockedValue { $0[index] = slot }
    }

    var all: [Slot] { slots.withLockedValue { $0 } }
}
