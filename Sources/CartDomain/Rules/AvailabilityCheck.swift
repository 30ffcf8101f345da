import CartTypes

// The availability check a cart's leader makes before it proposes an addition or a quantity
// change: a line may not grow beyond the units of its item that can still be reserved.
//
// It is advice, not a guarantee, and it is not part of the replicated decision. The item
// lives on another partition, so the leader checks against its copy of the item (the node's
// item cache, a replica's lag or a second behind the item's leader) and against the cart as
// it has applied it, and it refuses before anything reaches the log. Two carts may each hold
// the last unit; checkout, which reserves on the item's partition, is where stock can never
// go negative.

extension PartitionState {
    /// Refuses `command` (an `addItem` or a `setQuantity`) with `insufficientStock` when it
    /// would leave its cart's line holding more units of `item` than `item.stock`, and the line
    /// grows. A line that shrinks or stays is never refused, even above the stock.
    ///
    /// The command's own rules go first, so a command that breaks one is let through to fail
    /// in the log as it always does (a user without access learns nothing of the stock), and
    /// a request the dedup window remembers is let through to get its first answer.
    public func checkAvailability(of item: Item, for command: Command, request: RequestKey?) throws(DomainError) {
        guard availabilityMayRefuse(item) else { return }
        let cartID: CartID, itemID: ItemID
        switch command {
        case .addItem(let add): (cartID, itemID) = (add.cart, add.item)
        case .setQuantity(let set): (cartID, itemID) = (set.cart, set.item)
        default: return
        }
        guard itemID == item.id else { return }
        if let request, earlierOutcome(of: command, request: request) != nil { return }
        // Timestamps play no part in the decisions of a cart's lines.
        guard let events = try? decide(command, at: Timestamp(millisecondsSinceEpoch: 0)) else { return }
        let before = carts[cartID]?.line(for: itemID)?.quantity ?? 0
        var after = before
        for case .cart(let event) in events {
            switch event.change {
            case .itemAdded(let added) where added.line.item == itemID: after = added.line.quantity
            case .modified(let modified) where modified.item == itemID: after = modified.quantity
            default: break
            }
        }
        guard after > before, after > item.stock else { return }
        throw .insufficientStock(item: itemID, available: max(item.stock, 0))
    }

    /// Whether `checkAvailability` could refuse anything for `item`: no line holds more than
    /// `quantityMax` units, so an item with as many in stock passes whatever the cart holds.
    public func availabilityMayRefuse(_ item: Item) -> Bool {
        item.stock < limits.quantityMax
    }
}
