import CartTypes

// Deciding the cart side of the checkout saga (the protocol is in Saga.md). Each step is
// idempotent for its checkout id: repeating a step that already happened changes nothing
// and succeeds with no events, so the coordinator can retry after any crash.

extension PartitionState {
    func decideBeginCheckout(_ command: BeginCheckout, at timestamp: Timestamp) throws(DomainError) -> [Event] {
        let cart = try existingCart(command.cart)
        guard cart.isMember(command.actor) else { throw .permissionDenied(command.actor) }
        try validate(command.checkout)
        if cart.status == .checkingOut, cart.checkout?.id == command.checkout { return [] }
        try requireActive(cart, expecting: command.expectedVersion)
        if let previous = cart.checkout {
            guard previous.settled else { throw .checkoutUnsettled(previous.id) }
            guard previous.id != command.checkout else { throw .checkoutAborted(previous.id) }
        }
        guard !cart.lines.isEmpty else { throw .cartEmpty }
        guard let total = cart.total() else { throw .amountOverflow }
        let lines = cart.lines
            .map { StockLine(item: $0.item, quantity: $0.quantity) }
            .sorted { $0.item < $1.item }
        let started = CartCheckoutStarted(actor: command.actor, checkout: command.checkout, lines: lines, total: total)
        return cartEvent(for: cart, at: timestamp, change: .checkoutStarted(started))
    }

    func decideCompleteCheckout(_ command: CompleteCheckout, at timestamp: Timestamp) throws(DomainError) -> [Event] {
        let (cart, record) = try checkoutRecord(command.checkout, of: command.cart)
        switch record.outcome {
        case .completed: return []
        case .aborted: throw .checkoutAborted(record.id)
        case .pending:
            let done = CartCheckout(checkout: record.id, total: record.total)
            return cartEvent(for: cart, at: timestamp, change: .checkout(done))
        }
    }

    func decideAbortCheckout(_ command: AbortCheckout, at timestamp: Timestamp) throws(DomainError) -> [Event] {
        let (cart, record) = try checkoutRecord(command.checkout, of: command.cart)
        guard command.reason.utf8.count <= limits.reasonBytesMax else {
            throw .invalidArgument("abort reason longer than \(limits.reasonBytesMax) bytes")
        }
        switch record.outcome {
        case .aborted: return []
        case .completed: throw .checkoutCompleted(record.id)
        case .pending:
            let aborted = CartCheckoutAborted(checkout: record.id, reason: command.reason)
            return cartEvent(for: cart, at: timestamp, change: .checkoutAborted(aborted))
        }
    }

    func decideSettleCheckout(_ command: SettleCheckout, at timestamp: Timestamp) throws(DomainError) -> [Event] {
        let (cart, record) = try checkoutRecord(command.checkout, of: command.cart)
        guard record.outcome != .pending else { throw .checkoutUndecided(record.id) }
        if record.settled { return [] }
        let settled = CartCheckoutSettled(checkout: record.id)
        return cartEvent(for: cart, at: timestamp, change: .checkoutSettled(settled))
    }

    /// The cart and its checkout record, which must be for `checkout`.
    private func checkoutRecord(_ checkout: CheckoutID, of id: CartID) throws(DomainError) -> (Cart, CheckoutRecord) {
        let cart = try existingCart(id)
        guard let record = cart.checkout, record.id == checkout else {
            throw .checkoutMismatch(current: cart.checkout?.id)
        }
        return (cart, record)
    }
}
