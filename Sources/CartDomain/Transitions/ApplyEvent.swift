import CartTypes

// Pure state transitions: what each event does to the state. Events come from `decide`
// (or from a replayed log of them), so they are trusted: a broken expectation here means a
// bug or a corrupted log, and stops the replica rather than letting replicas diverge.

extension PartitionState {
    public mutating func apply(event: Event) {
        switch event {
        case .cart(let event): apply(cartEvent: event)
        case .item(let event): apply(itemEvent: event)
        case .user(let event): apply(userEvent: event)
        case .links(let confirmed):
            for link in confirmed.links {
                guard var pending = linksPending[link.cart],
                      let index = pending.firstIndex(where: { $0.user == link.user && $0.seq == link.seq }) else {
                    preconditionFailure("the confirmed link of \(link.user) to \(link.cart) is pending at seq \(link.seq)")
                }
                pending.remove(at: index)
                linksPending[link.cart] = pending.isEmpty ? nil : pending
            }
        }
    }

    mutating func apply(cartEvent event: CartEvent) {
        if case .created(let created) = event.change {
            precondition(carts[event.cart] == nil, "CartCreated for an existing cart \(event.cart)")
            carts[event.cart] = Cart(id: event.cart, owner: created.owner, createdAt: event.timestamp)
        }
        guard let index = carts.index(forKey: event.cart) else {
            preconditionFailure("\(event.change.name) for an unknown cart \(event.cart)")
        }
        // Mutated where it is stored: one lookup, and the cart's arrays stay uniquely
        // referenced, so nothing is copied.
        carts.values[index].apply(event)
        switch event.change {
        case .checkoutStarted, .checkout, .checkoutAborted, .checkoutSettled:
            indexCheckout(of: carts.values[index])
        case .created, .itemAdded, .itemRemoved, .modified, .shared, .unshared:
            break  // the checkout record is untouched
        }
        recordPendingLinks(event)
        histories[event.cart, default: CartHistory()].append(event, keepingAtMost: limits.historyEventsPerCartMax)
    }

    /// A membership change leaves a user's partition to be told (`PendingLink`): the newest
    /// change per user replaces an older one still pending.
    private mutating func recordPendingLinks(_ event: CartEvent) {
        guard let change = event.change.membershipChange else { return }
        let link = PendingLink(user: change.user, seq: event.seq, linked: change.role != nil, since: event.timestamp)
        let unlinksMax = limits.sharedUsersMax
        func record(in pending: inout [PendingLink]) {
            // Linear: a cart has a handful of members (`sharedUsersMax`).
            let index = pending.firstIndex { $0.user >= change.user } ?? pending.count
            if index < pending.count && pending[index].user == change.user {
                pending[index] = link
            } else {
                pending.insert(link, at: index)
            }
            // Bounded: past members plus as many unlinks, the lowest names' unlinks rely on
            // their first sending.
            while pending.lazy.filter({ !$0.linked }).count > unlinksMax,
                  let lowest = pending.firstIndex(where: { !$0.linked && $0.user != change.user }) {
                pending.remove(at: lowest)
            }
        }
        // Mutated where it is stored, so the array is not copied.
        record(in: &linksPending[event.cart, default: []])
    }

    /// Puts `cart` in `unsettledCheckoutCarts` or takes it out, after any change to its
    /// checkout record (and on restore). The rule lives here alone and reads the record,
    /// not the change, so every path that touches a record keeps the index the same way.
    mutating func indexCheckout(of cart: Cart) {
        if let checkout = cart.checkout, !checkout.settled {
            unsettledCheckoutCarts.insert(cart.id)
        } else {
            unsettledCheckoutCarts.remove(cart.id)
        }
    }

    mutating func apply(itemEvent event: ItemEvent) {
        switch event {
        case .itemPut(let put):
            items[put.item.id] = put.item
        case .stockAdjusted(let adjusted):
            precondition(adjusted.stock >= 0, "stock never goes negative")
            items[adjusted.item]!.stock = adjusted.stock
        case .stockReserved(let reserved):
            precondition(reservations[reserved.checkout] == nil, "a checkout reserves once per partition")
            moveStock(reserved.lines, fromStockToReserved: true)
            reservations[reserved.checkout] = Reservation(checkout: reserved.checkout, lines: reserved.lines, status: .held)
            heldReservationCount += 1
        case .stockReleased(let released):
            if let held = reservations[released.checkout] {
                precondition(held.status == .held && held.lines == released.lines, "only held stock is released")
                moveStock(released.lines, fromStockToReserved: false)
                heldReservationCount -= 1
            }
            settle(Reservation(checkout: released.checkout, lines: released.lines, status: .released))
        case .reservationCommitted(let committed):
            precondition(reservations[committed.checkout]?.status == .held, "only held stock is committed")
            for line in committed.lines { adjustReserved(of: line.item, by: -line.quantity) }
            heldReservationCount -= 1
            settle(Reservation(checkout: committed.checkout, lines: committed.lines, status: .committed))
        }
    }

    mutating func apply(userEvent event: UserEvent) {
        switch event {
        case .registered(let registered):
            precondition(users[registered.user] == nil, "a user registers once")
            users[registered.user] = User(id: registered.user, passwordHash: registered.passwordHash,
                                          registeredAt: registered.timestamp)
        case .cartLinked(let linked):
            users[linked.user]!.setLink(linked.link)
            if let seq = linked.cartSeq {
                users[linked.user]!.setMark(CartLinkMark(cart: linked.link.cart, seq: seq, linked: true),
                                            removalsMax: limits.cartsPerUserMax)
            } else if let mark = users[linked.user]!.mark(for: linked.link.cart), !mark.linked {
                // A link without a seq (entries of nodes that sent none) revives the mark.
                users[linked.user]!.setMark(CartLinkMark(cart: linked.link.cart, seq: mark.seq, linked: true),
                                            removalsMax: limits.cartsPerUserMax)
            }
        case .cartUnlinked(let unlinked):
            users[unlinked.user]!.removeLink(for: unlinked.cart)
            if let seq = unlinked.cartSeq {
                users[unlinked.user]!.setMark(CartLinkMark(cart: unlinked.cart, seq: seq, linked: false),
                                              removalsMax: limits.cartsPerUserMax)
            } else if let mark = users[unlinked.user]!.mark(for: unlinked.cart), mark.linked {
                // A removal without a seq (compensation, older entries) ends the link's mark.
                users[unlinked.user]!.setMark(CartLinkMark(cart: unlinked.cart, seq: mark.seq, linked: false),
                                              removalsMax: limits.cartsPerUserMax)
            }
        }
    }

    private mutating func moveStock(_ lines: [StockLine], fromStockToReserved: Bool) {
        for line in lines {
            let delta = fromStockToReserved ? line.quantity : -line.quantity
            guard var item = items[line.item] else { preconditionFailure("stock moved for unknown item \(line.item)") }
            item.stock -= delta
            item.reserved += delta
            precondition(item.stock >= 0 && item.reserved >= 0, "stock and reserved never go negative")
            items[line.item] = item
        }
    }

    private mutating func adjustReserved(of id: ItemID, by delta: Int64) {
        guard var item = items[id] else { preconditionFailure("reservation for unknown item \(id)") }
        item.reserved += delta
        precondition(item.reserved >= 0, "reserved never goes negative")
        items[id] = item
    }

    /// Records a settled reservation and forgets the oldest settled one beyond the limit.
    private mutating func settle(_ reservation: Reservation) {
        reservations[reservation.checkout] = reservation
        settledReservations.append(reservation.checkout)
        while settledReservations.count > limits.reservationsSettledMax,
              let oldest = settledReservations.removeOldest() {
            reservations[oldest] = nil
        }
    }
}

extension Cart {
    mutating func apply(_ event: CartEvent) {
        precondition(event.seq == seq.next, "cart \(id) events must be consecutive")
        precondition(event.version == version || event.version == version.next,
                     "cart \(id) versions grow by one per command")
        seq = event.seq
        version = event.version
        updatedAt = event.timestamp
        apply(event.change)
    }

    mutating func apply(_ change: CartChange) {
        switch change {
        case .created:
            break
        case .itemAdded(let added):
            if let index = lineIndex(of: added.line.item) { lines[index] = added.line } else { lines.append(added.line) }
        case .itemRemoved(let removed):
            lines.removeAll { $0.item == removed.item }
        case .modified(let modified):
            lines[lineIndex(of: modified.item)!].quantity = modified.quantity
        case .shared(let shared):
            let index = sharedUsers.firstIndex { $0 > shared.user } ?? sharedUsers.count
            sharedUsers.insert(shared.user, at: index)
        case .unshared(let unshared):
            sharedUsers.removeAll { $0 == unshared.user }
        case .checkoutStarted(let started):
            status = .checkingOut
            checkout = CheckoutRecord(id: started.checkout, lines: started.lines, total: started.total,
                                      outcome: .pending, settled: false)
        case .checkout:
            status = .checkedOut
            checkout!.outcome = .completed
        case .checkoutAborted:
            status = .active
            checkout!.outcome = .aborted
        case .checkoutSettled:
            checkout!.settled = true
        }
    }
}
