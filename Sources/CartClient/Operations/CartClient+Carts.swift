import CartAPI
import CartDomain
import CartTypes

// Cart operations. Writes take an optional `expectedVersion` (fail with `versionConflict`
// unless the cart is at it) and an optional request key (one is made when absent; pass the
// same key to repeat a request on purpose).

extension CartClient {
    /// Creates a cart owned by the caller. Without an id the client names it from the
    /// request key, so the request goes straight to the cart's partition.
    public func createCart(_ cart: CartID? = nil, requestKey: RequestKey? = nil) async throws(CartClientError) -> CartWriteReply {
        let key = requestKey ?? makeRequestKey()
        let id = cart ?? CartID("c\(key.client.rawValue)-r\(key.request.rawValue)")
        return try await call(.cartCreate, CreateCartRequest(cart: id, request: key), route: .partition(await partition(of: id)))
    }

    public func getCart(_ cart: CartID) async throws(CartClientError) -> Cart {
        try await call(.cartGet, GetCartRequest(cart: cart), route: .partition(await partition(of: cart))).cart
    }

    /// The cart, read as `consistency` says; a local read's reply names the replica that
    /// served it and how far it had applied (`servedBy`).
    public func readCart(_ cart: CartID, _ consistency: ReadConsistency) async throws(CartClientError) -> CartReply {
        try await call(.cartGet, GetCartRequest(cart: cart, local: consistency.localField), route: await route(cart, consistency))
    }

    public func addItem(_ cart: CartID, item: ItemID, quantity: Int64, expectedVersion: Version? = nil,
                        requestKey: RequestKey? = nil) async throws(CartClientError) -> CartWriteReply {
        let request = AddItemRequest(cart: cart, item: item, quantity: quantity, expectedVersion: expectedVersion,
                                     request: requestKey ?? makeRequestKey())
        return try await call(.cartAddItem, request, route: .partition(await partition(of: cart)))
    }

    public func removeItem(_ cart: CartID, item: ItemID, expectedVersion: Version? = nil,
                           requestKey: RequestKey? = nil) async throws(CartClientError) -> CartWriteReply {
        let request = RemoveItemRequest(cart: cart, item: item, expectedVersion: expectedVersion,
                                        request: requestKey ?? makeRequestKey())
        return try await call(.cartRemoveItem, request, route: .partition(await partition(of: cart)))
    }

    public func setQuantity(_ cart: CartID, item: ItemID, quantity: Int64, expectedVersion: Version? = nil,
                            requestKey: RequestKey? = nil) async throws(CartClientError) -> CartWriteReply {
        let request = SetQuantityRequest(cart: cart, item: item, quantity: quantity, expectedVersion: expectedVersion,
                                         request: requestKey ?? makeRequestKey())
        return try await call(.cartSetQuantity, request, route: .partition(await partition(of: cart)))
    }

    public func share(_ cart: CartID, with users: [UserID], expectedVersion: Version? = nil,
                      requestKey: RequestKey? = nil) async throws(CartClientError) -> CartWriteReply {
        let request = ShareCartRequest(cart: cart, users: users, expectedVersion: expectedVersion,
                                       request: requestKey ?? makeRequestKey())
        return try await call(.cartShare, request, route: .partition(await partition(of: cart)))
    }

    public func unshare(_ cart: CartID, user: UserID, expectedVersion: Version? = nil,
                        requestKey: RequestKey? = nil) async throws(CartClientError) -> CartWriteReply {
        let request = UnshareCartRequest(cart: cart, user: user, expectedVersion: expectedVersion,
                                         request: requestKey ?? makeRequestKey())
        return try await call(.cartUnshare, request, route: .partition(await partition(of: cart)))
    }

    /// Reserves stock for every line; fails naming the short item when one is short, with
    /// nothing reserved.
    public func checkout(_ cart: CartID, expectedVersion: Version? = nil,
                         requestKey: RequestKey? = nil) async throws(CartClientError) -> CheckoutReply {
        let request = CheckoutRequest(cart: cart, expectedVersion: expectedVersion, request: requestKey ?? makeRequestKey())
        return try await call(.cartCheckout, request, route: .partition(await partition(of: cart)))
    }

    /// One page of the cart's retained history from `fromSeq`, read as `consistency` says.
    public func events(_ cart: CartID, fromSeq: Seq = Seq(1), eventsMax: UInt32 = CartAPILimits.eventsPerPageMax,
                       consistency: ReadConsistency = .linearizable) async throws(CartClientError) -> CartEventsReply {
        try await call(.cartEvents, CartEventsRequest(cart: cart, fromSeq: fromSeq, eventsMax: eventsMax, local: consistency.localField),
                       route: await route(cart, consistency))
    }

    /// Where a read of `cart` goes: to the partition's leader, or as a local read says.
    private func route(_ cart: CartID, _ consistency: ReadConsistency) async -> Route {
        consistency.route(to: await partition(of: cart))
    }

    /// Every retained event from `fromSeq` up to the cart's seq when the last page was read,
    /// page by page (at most `pagesMax` pages), at the partition's leader.
    public func allEvents(_ cart: CartID, fromSeq: Seq = Seq(1), pagesMax: Int = 10_000) async throws(CartClientError) -> [CartEvent] {
        try await allEvents(cart, fromSeq: fromSeq, pagesMax: pagesMax, consistency: .linearizable).events
    }

    /// As `allEvents(_:fromSeq:pagesMax:)`, read as `consistency` says. A local read takes
    /// every page from the replica that served the first one (whose address the client
    /// learns from the cluster's status), so the pages are one copy; if that node fails
    /// midway, the read fails rather than go on from another copy. `servedBy` is where the
    /// last page was read.
    public func allEvents(_ cart: CartID, fromSeq: Seq = Seq(1), pagesMax: Int = 10_000, consistency: ReadConsistency)
        async throws(CartClientError) -> (events: [CartEvent], servedBy: ReplicaPosition?) {
        var events: [CartEvent] = []
        var next = max(fromSeq, Seq(1))
        var consistency = consistency
        var servedBy: ReplicaPosition?
        for _ in 0..<pagesMax {
            let page = try await self.events(cart, fromSeq: next, consistency: consistency)
            servedBy = page.servedBy
            if case .local(nil) = consistency, let node = page.servedBy?.node, let endpoint = routing.endpoint(of: node) {
                consistency = .local(at: endpoint)
            }
            events.append(contentsOf: page.events)
            guard let last = page.events.last, last.seq < page.cartSeq else { break }
            next = Seq(last.seq.rawValue + 1)
        }
        return (events, servedBy)
    }
}
