import CartTypes

// Deciding catalogue and stock commands on an item partition. Stock never goes negative:
// every decrease is checked against the available units before an event is emitted, and
// a reservation is all or nothing across the lines it names.

extension PartitionState {
    func decidePutItem(_ command: PutItem) throws(DomainError) -> [Event] {
        try validate(command.item)
        let nameBytes = command.name.utf8.count
        guard nameBytes > 0 && nameBytes <= limits.itemNameBytesMax else {
            throw .invalidArgument("item name must be 1...\(limits.itemNameBytesMax) bytes, got \(nameBytes)")
        }
        try validatePrice(command.price)
        let item: Item
        if let existing = items[command.item] {
            item = Item(id: existing.id, name: command.name, price: command.price,
                        stock: existing.stock, reserved: existing.reserved)
        } else {
            guard command.initialStock >= 0 && command.initialStock <= limits.stockMax else {
                throw .invalidArgument("initial stock must be 0...\(limits.stockMax)")
            }
            guard items.count < limits.itemsPerPartitionMax else { throw .partitionFull(max: limits.itemsPerPartitionMax) }
            item = Item(id: command.item, name: command.name, price: command.price, stock: command.initialStock)
        }
        return [.item(.itemPut(ItemPut(item: item)))]
    }

    func decideAdjustStock(_ command: AdjustStock) throws(DomainError) -> [Event] {
        guard let item = items[command.item] else { throw .itemNotFound(command.item) }
        guard command.delta != 0 else { throw .invalidArgument("stock delta must not be zero") }
        let (stock, overflow) = item.stock.addingReportingOverflow(command.delta)
        guard !overflow, stock >= 0 else { throw .insufficientStock(item: item.id, available: item.stock) }
        guard stock <= limits.stockMax - item.reserved else {
            throw .invalidArgument("stock would exceed \(limits.stockMax) units")
        }
        return [.item(.stockAdjusted(StockAdjusted(item: item.id, delta: command.delta, stock: stock)))]
    }

    func decideReserveStock(_ command: ReserveStock) throws(DomainError) -> [Event] {
        try validate(command.checkout)
        if let existing = reservations[command.checkout] {
            switch existing.status {
            case .held, .committed: return []
            case .released: throw .reservationReleased(command.checkout)
            }
        }
        let lines = try validateStockLines(command.lines)
        guard heldReservationCount < limits.reservationsHeldMax else {
            throw .tooManyReservations(max: limits.reservationsHeldMax)
        }
        // Sorted lines: when several items are short, the error always names the first by id.
        for line in lines {
            guard let item = items[line.item] else { throw .itemNotFound(line.item) }
            guard item.stock >= line.quantity else { throw .insufficientStock(item: item.id, available: item.stock) }
        }
        return [.item(.stockReserved(StockReserved(checkout: command.checkout, lines: lines)))]
    }

    func decideReleaseStock(_ command: ReleaseStock) throws(DomainError) -> [Event] {
        try validate(command.checkout)
        guard let existing = reservations[command.checkout] else {
            // Never reserved here (the reservation failed or has not arrived yet): remember
            // the release so a late ReserveStock for this checkout is refused.
            return [.item(.stockReleased(StockReleased(checkout: command.checkout, lines: [])))]
        }
        switch existing.status {
        case .released: return []
        case .committed: throw .reservationCommitted(command.checkout)
        case .held:
            return [.item(.stockReleased(StockReleased(checkout: command.checkout, lines: existing.lines)))]
        }
    }

    func decideCommitReservation(_ command: CommitReservation) throws(DomainError) -> [Event] {
        try validate(command.checkout)
        guard let existing = reservations[command.checkout] else { throw .reservationNotFound(command.checkout) }
        switch existing.status {
        case .committed: return []
        case .released: throw .reservationReleased(command.checkout)
        case .held:
            return [.item(.reservationCommitted(ReservationCommitted(checkout: command.checkout, lines: existing.lines)))]
        }
    }
}
