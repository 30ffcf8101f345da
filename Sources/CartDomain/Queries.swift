import CartTypes

// Reads the node serves from a partition's state (after a ReadIndex or lease check).
// Permission rules match the commands: only members of a cart may read it.

extension PartitionState {
    public func cart(_ id: CartID, readBy user: UserID) -> Result<Cart, DomainError> {
        guard let cart = carts[id] else { return .failure(.cartNotFound(id)) }
        guard cart.isMember(user) else { return .failure(.permissionDenied(user)) }
        return .success(cart)
    }

    /// The cart's events with seq ≥ `from`, oldest first, at most `eventsMax`
    /// (see `CartHistory` for retention and `historyTruncated`).
    public func history(of id: CartID, from: Seq, eventsMax: Int, readBy user: UserID) -> Result<[CartEvent], DomainError> {
        switch cart(id, readBy: user) {
        case .failure(let error): return .failure(error)
        case .success: return (histories[id] ?? CartHistory()).read(from: from, eventsMax: eventsMax)
        }
    }

    /// Checkouts whose saga still owes steps, sorted by cart id. A coordinator that takes
    /// over the partition (new leader, restart) resumes each one as Saga.md describes.
    /// Served from `unsettledCheckoutCarts`: the cost follows the unsettled checkouts, not
    /// the carts. A cart the index names wrongly is a bug that stops debug builds (tests);
    /// a release build leaves it out rather than stop the node over a read.
    public func unsettledCheckouts() -> [(cart: CartID, checkout: CheckoutRecord)] {
        unsettledCheckoutCarts.sorted().compactMap { id in
            guard let checkout = carts[id]?.checkout, !checkout.settled else {
                assertionFailure("cart \(id) is indexed as having an unsettled checkout but has none")
                return nil
            }
            return (id, checkout)
        }
    }

    /// Pending links and unlinks that have waited since before `before`, at most `limit`
    /// not `skipped`, with the role a link gives: what a cart partition's leader re-sends
    /// (Saga.md, "Users and shares"). In no particular order (a node-side choice, never part
    /// of the state); the cost follows the carts with pending links, without sorting them.
    public func linksPending(before: Timestamp, limit: Int, skipping skipped: (CartID, PendingLink) -> Bool = { _, _ in false })
        -> [(cart: CartID, link: PendingLink, role: CartLink.Role)] {
        var due: [(cart: CartID, link: PendingLink, role: CartLink.Role)] = []
        for (cart, pending) in linksPending {
            guard due.count < limit else { break }
            let owner = carts[cart]?.owner
            for link in pending where link.since < before && due.count < limit && !skipped(cart, link) {
                due.append((cart, link, link.user == owner ? .owner : .shared))
            }
        }
        return due
    }
}
