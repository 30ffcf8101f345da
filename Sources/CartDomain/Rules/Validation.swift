import CartTypes

// Checks of values that come from outside (clients, the gateway). Each failure is a typed
// error naming what was wrong; none of them can crash the partition.

extension PartitionState {
    func validate(_ cart: CartID) throws(DomainError) {
        try validateIdentifier(cart.rawValue, bytesMax: CartID.bytesMax, what: "cart id")
    }

    public func validate(_ item: ItemID) throws(DomainError) {
        try validateIdentifier(item.rawValue, bytesMax: ItemID.bytesMax, what: "item id")
    }

    func validate(_ user: UserID) throws(DomainError) {
        try validateIdentifier(user.rawValue, bytesMax: UserID.bytesMax, what: "user id")
    }

    func validate(_ checkout: CheckoutID) throws(DomainError) {
        try validateIdentifier(checkout.rawValue, bytesMax: CheckoutID.bytesMax, what: "checkout id")
    }

    public func validateQuantity(_ quantity: Int64) throws(DomainError) {
        guard quantity > 0 && quantity <= limits.quantityMax else { throw .invalidQuantity(quantity) }
    }

    func validatePrice(_ price: Money) throws(DomainError) {
        guard price.minorUnits >= 0 && price.minorUnits <= limits.priceMinorUnitsMax else {
            throw .invalidArgument("price \(price.minorUnits) minor units is outside 0...\(limits.priceMinorUnitsMax)")
        }
    }

    /// Lines of a reservation: non-empty, valid quantities, one line per item.
    /// Returns them sorted by item so events and error choices do not depend on input order.
    func validateStockLines(_ lines: [StockLine]) throws(DomainError) -> [StockLine] {
        guard !lines.isEmpty else { throw .invalidArgument("no lines to reserve") }
        guard lines.count <= limits.itemsPerCartMax else { throw .tooManyItems(max: limits.itemsPerCartMax) }
        let sorted = lines.sorted { $0.item < $1.item }
        for (index, line) in sorted.enumerated() {
            try validate(line.item)
            try validateQuantity(line.quantity)
            if index > 0 && sorted[index - 1].item == line.item {
                throw .invalidArgument("item \(line.item) appears twice")
            }
        }
        return sorted
    }

    private func validateIdentifier(_ raw: String, bytesMax: Int, what: String) throws(DomainError) {
        let bytes = raw.utf8.count
        guard bytes > 0 && bytes <= bytesMax else {
            throw .invalidArgument("\(what) must be 1...\(bytesMax) bytes, got \(bytes)")
        }
    }
}
