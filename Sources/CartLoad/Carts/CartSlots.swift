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
        /// Items this workload added to the cart and has not removed, so removes and quantity
        /// changes hit lines that exist (approximate when two workers race on one cart).
        var items: Set<ItemID> = []
    }

    private let slots: NIOLockedValueBox<[Slot]>

    init(_ slots: [Slot]) {
        precondition(!slots.isEmpty, "a workload needs carts")
        self.slots = NIOLockedValueBox(slots)
    }

    var count: Int { slots.withLockedValue { $0.count } }

    func random(using random: inout some RandomNumberGenerator) -> (index: Int, slot: Slot) {
        slots.withLockedValue { slots in
            let index = Int.random(in: 0..<slots.count, using: &random)
            return (index, slots[index])
        }
    }

    func noteAdded(_ item: ItemID, at index: Int, cart: CartID) {
        slots.withLockedValue { slots in
            if slots[index].cart == cart { slots[index].items.insert(item) }
        }
    }

    func noteRemoved(_ item: ItemID, at index: Int, cart: CartID) {
        slots.withLockedValue { slots in
            if slots[index].cart == cart { slots[index].items.remove(item) }
        }
    }

    func replace(_ index: Int, with slot: Slot) {
        slots.withLockedValue { $0[index] = slot }
    }

    var all: [Slot] { slots.withLockedValue { $0 } }
}
