import CartTypes

// Checks a restored state before it is used. A snapshot passed its checksum on disk, but it
// is still data from outside this process: anything the state transitions rely on is
// verified here, so a bad snapshot is a typed error at load time and never a crash later.

extension PartitionState {
    func validateRestored() throws(SnapshotError) {
        for (id, cart) in carts {
            try validateRestored(cart, history: histories[id] ?? CartHistory())
        }
        try validateReservedUnits()
        for user in users.values {
            guard zip(user.carts, user.carts.dropFirst()).allSatisfy({ $0.cart < $1.cart }) else {
                throw SnapshotError(.inconsistent, "user \(user.id) cart links are not sorted and unique")
            }
            guard zip(user.linkMarks, user.linkMarks.dropFirst()).allSatisfy({ $0.cart < $1.cart }) else {
                throw SnapshotError(.inconsistent, "user \(user.id) link marks are not sorted and unique")
            }
            guard user.linkMarks.allSatisfy({ ($0.linked) == (user.link(for: $0.cart) != nil) }) else {
                throw SnapshotError(.inconsistent, "user \(user.id) has a link mark that disagrees with the links")
            }
            guard user.linkMarks.lazy.filter({ !$0.linked }).count <= limits.cartsPerUserMax else {
                throw SnapshotError(.inconsistent, "user \(user.id) keeps more removal marks than cartsPerUserMax")
            }
        }
    }

    private func validateRestored(_ cart: Cart, history: CartHistory) throws(SnapshotError) {
        func fail(_ why: String) -> SnapshotError { SnapshotError(.inconsistent, "cart \(cart.id): \(why)") }
        guard Set(cart.lines.map(\.item)).count == cart.lines.count else { throw fail("an item has two lines") }
        guard zip(cart.sharedUsers, cart.sharedUsers.dropFirst()).allSatisfy({ $0 < $1 }),
              !cart.sharedUsers.contains(cart.owner) else { throw fail("shared users are not sorted, unique and without the owner") }
        guard cart.version <= Version(cart.seq.rawValue) else { throw fail("version is ahead of seq") }
        if let last = history.retained.last {
            guard last.seq == cart.seq, last.cart == cart.id else { throw fail("history does not end at the cart's seq") }
            guard zip(history.retained, history.retained.dropFirst()).allSatisfy({ $0.seq.next == $1.seq }) else {
                throw fail("history seqs are not consecutive")
            }
        }
        let outcome = cart.checkout?.outcome
        let consistent = switch cart.status {
        case .active: outcome == nil || outcome == .aborted
        case .checkingOut: outcome == .pending
        case .checkedOut: outcome == .completed
        }
        guard consistent else { throw fail("status \(cart.status) does not match its checkout record") }
        if let pending = linksPending[cart.id] {
            guard !pending.isEmpty, zip(pending, pending.dropFirst()).allSatisfy({ $0.user < $1.user }) else {
                throw fail("pending links are not sorted by user, unique and present")
            }
            for link in pending {
                let member = link.user == cart.owner || cart.sharedUsers.contains(link.user)
                guard link.seq <= cart.seq, link.linked == member else {
                    throw fail("a pending link of \(link.user) disagrees with the members or the seq")
                }
            }
            guard pending.lazy.filter({ !$0.linked }).count <= limits.sharedUsersMax else { throw fail("too many pending unlinks") }
        }
    }

    /// Every item's reserved units are exactly what the held reservations hold.
    private func validateReservedUnits() throws(SnapshotError) {
        var held: [ItemID: Int64] = [:]
        for reservation in reservations.values where reservation.status == .held {
            for line in reservation.lines {
                guard items[line.item] != nil, line.quantity > 0 else {
                    throw SnapshotError(.inconsistent, "reservation \(reservation.checkout) holds an unknown item or bad quantity")
                }
                held[line.item, default: 0] += line.quantity
            }
        }
        for item in items.values where item.reserved != held[item.id, default: 0] {
            throw SnapshotError(.inconsistent, "item \(item.id) reserved \(item.reserved) ≠ held \(held[item.id, default: 0])")
        }
    }
}
