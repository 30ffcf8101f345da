import CartAPI
import CartDomain
import CartRPC
import CartTypes
import NIOCore

// Carts: create, get, add, remove, set quantity, share, unshare, checkout, events. Writes
// are proposed at the cart partition's leader and answered once applied there; reads run
// there after a ReadIndex round, or, asked `local`, at the node asked from its own replica.

extension NodeServices {
    func registerCartService(_ table: MethodTable) {
        table.add(.cartCreate) { [self] request, caller, loop in
            loop.failing {
                let owner = try caller.user()
                let cart = request.cart ?? CartID("c\(request.request.client.rawValue)-r\(request.request.request.rawValue)")
                return writeCart(.cartCreate, request, cart: cart, caller: caller, on: loop) { _ in
                    .createCart(CreateCart(cart: cart, owner: owner))
                }
            }
        }
        table.add(.cartAddItem) { [self] request, caller, loop in
            loop.failing {
                let actor = try caller.user()
                let partition = placement.partition(of: request.cart)
                return router.route(.cartAddItem, partition: partition, request, caller: caller, on: loop) { [self] replica in
                    // A request wrong in itself is refused as such before the item is looked
                    // up (an unknown item would otherwise answer first), as the domain does.
                    do throws(DomainError) {
                        try replica.state.validate(request.item)
                        try replica.state.validateQuantity(request.quantity)
                    } catch {
                        return replica.loop.makeFailedFuture(error.rpcError)
                    }
                    let proposed: EventLoopFuture<CommandOutcome>
                    // The price is normally in the node's item cache, and most items have more
                    // stock than a line can hold: nothing to look up or check.
                    let cached = items.item(request.item)
                    if let cached, !replica.state.availabilityMayRefuse(cached) {
                        proposed = replica.propose(.addItem(Self.addItem(request, by: actor, at: cached.price)), request: request.request)
                    } else {
                        proposed = replica.propose(request: request.request, item: cached, lookUp: { self.item(request.item, on: replica.loop) }) {
                            .addItem(Self.addItem(request, by: actor, at: $0.price))
                        }
                    }
                    return proposed.flatMapThrowing { outcome in
                        try self.writeReply(outcome, cart: request.cart, replica: replica)
                    }
                }
            }
        }
        table.add(.cartRemoveItem) { [self] request, caller, loop in
            loop.failing {
                let actor = try caller.user()
                return writeCart(.cartRemoveItem, request, cart: request.cart, caller: caller, on: loop) { _ in
                    .removeItem(RemoveItem(cart: request.cart, actor: actor, item: request.item, expectedVersion: request.expectedVersion))
                }
            }
        }
        table.add(.cartSetQuantity) { [self] request, caller, loop in
            loop.failing {
                let actor = try caller.user()
                return writeCart(.cartSetQuantity, request, cart: request.cart, caller: caller, on: loop,
                                 growing: (request.item, to: request.quantity)) { _ in
                    .setQuantity(SetQuantity(cart: request.cart, actor: actor, item: request.item, quantity: request.quantity,
                                             expectedVersion: request.expectedVersion))
                }
            }
        }
        table.add(.cartShare) { [self] request, caller, loop in
            loop.failing {
                let actor = try caller.user()
                guard request.users.count <= CartAPILimits.usersPerShareMax else {
                    throw RPCError(.invalidArgument, "at most \(CartAPILimits.usersPerShareMax) users per share")
                }
                // A name nobody registered is refused here, before anything changes: the link to
                // the user's cart list would fail and undo the share a moment after it was answered.
                // A forwarded share was checked by the node it came from.
                let checked = caller.forwarded ? loop.makeSucceededVoidFuture() : checkRegistered(request.users, on: loop)
                return checked.flatMap { [self] in
                    writeCart(.cartShare, request, cart: request.cart, caller: caller, on: loop) { _ in
                        .shareCart(ShareCart(cart: request.cart, actor: actor, users: request.users, expectedVersion: request.expectedVersion))
                    }
                }
            }
        }
        table.add(.cartUnshare) { [self] request, caller, loop in
            loop.failing {
                let actor = try caller.user()
                return writeCart(.cartUnshare, request, cart: request.cart, caller: caller, on: loop) { _ in
                    .unshareCart(UnshareCart(cart: request.cart, actor: actor, user: request.user, expectedVersion: request.expectedVersion))
                }
            }
        }
        table.add(.cartGet) { [self] request, caller, loop in
            loop.failing {
                let reader = try caller.user()
                let partition = placement.partition(of: request.cart)
                let read: @Sendable (PartitionState) throws(RPCError) -> Cart = { (state) throws(RPCError) -> Cart in
                    do throws(DomainError) { return try state.cart(request.cart, readBy: reader).get() } catch { throw error.rpcError }
                }
                if request.local == true {
                    return readLocally(partition, on: loop) { replica, position throws(RPCError) in
                        CartReply(cart: try read(replica.state), servedBy: position)
                    }
                }
                return router.route(.cartGet, partition: partition, request, caller: caller, on: loop) { [self] replica in
                    replica.readLinearizable { (state) throws(RPCError) -> CartReply in
                        CartReply(cart: try read(state), leaderHint: self.selfHint)
                    }
                }
            }
        }
        table.add(.cartEvents) { [self] request, caller, loop in
            loop.failing {
                let reader = try caller.user()
                let eventsMax = Int(min(request.eventsMax, CartAPILimits.eventsPerPageMax))
                let partition = placement.partition(of: request.cart)
                let page: @Sendable (PartitionReplica) throws(RPCError) -> CartEventsReply = { (replica) throws(RPCError) -> CartEventsReply in
                    switch replica.history(of: request.cart, from: request.fromSeq, eventsMax: eventsMax, readBy: reader) {
                    case .success(let events): return CartEventsReply(events: events, cartSeq: replica.state.carts[request.cart]?.seq ?? .zero)
                    case .failure(let error): throw error.rpcError
                    }
                }
                if request.local == true {
                    return readLocally(partition, on: loop) { replica, position throws(RPCError) in
                        var reply = try page(replica)
                        reply.servedBy = position
                        return reply
                    }
                }
                return router.route(.cartEvents, partition: partition, request, caller: caller, on: loop) { replica in
                    replica.readLinearizable { (_) throws(RPCError) -> CartEventsReply in try page(replica) }
                }
            }
        }
        table.add(.cartCheckout) { [self] request, caller, loop in
            loop.failing {
                let actor = try caller.user()
                return router.route(.cartCheckout, partition: placement.partition(of: request.cart), request, caller: caller, on: loop) { [self] replica in
                    checkout(request, actor: actor, replica: replica)
                }
            }
        }
    }

    /// A cart write: route to the cart's leader, propose, answer from the applied events,
    /// then send the users' partitions the links and unlinks its membership events call
    /// for (`sendLinks`), from the leader. A write `growing` a line to more units than the
    /// line holds is checked against the item's stock first (`checkingAvailability`).
    func writeCart<Request>(_ method: RPCMethod<Request, CartWriteReply>, _ request: Request, cart: CartID, caller: Caller,
                            on loop: any EventLoop, growing line: (item: ItemID, to: Int64)? = nil,
                            command: @escaping @Sendable (PartitionReplica) -> Command) -> EventLoopFuture<CartWriteReply>
    where Request: MutatingRequest {
        router.route(method, partition: placement.partition(of: cart), request, caller: caller, on: loop) { [self] replica in
            let command = command(replica)
            let proposed: EventLoopFuture<CommandOutcome>
            if let line, let held = replica.state.carts[cart]?.line(for: line.item)?.quantity, line.to > held {
                // Only a line the cart holds can grow; a missing one is refused in the log.
                proposed = replica.propose(request: request.request, item: items.item(line.item),
                                           lookUp: { self.item(line.item, on: replica.loop) }) { _ in command }
            } else {
                proposed = replica.propose(command, request: request.request)
            }
            return proposed.flatMapThrowing { outcome in
                let reply = try self.writeReply(outcome, cart: cart, replica: replica)
                if case .accepted(let events) = outcome {
                    let changes = LinkChange.changes(in: events)
                    if !changes.isEmpty {
                        let owner = replica.state.carts[cart]?.owner
                        // This runs while the replica applies the entry; the links are
                        // proposals, and the router serves a proposal for a partition on this
                        // loop at once, so they wait for the apply step to end.
                        replica.loop.execute { self.sendLinks(changes, owner: owner) }
                    }
                }
                return reply
            }
        }
    }

    static func addItem(_ request: AddItemRequest, by actor: UserID, at price: Money) -> AddItem {
        AddItem(cart: request.cart, actor: actor, item: request.item, quantity: request.quantity, unitPrice: price,
                expectedVersion: request.expectedVersion)
    }

    /// The cart's version and seq after an accepted write (or the refusal as an error).
    func writeReply(_ outcome: CommandOutcome, cart: CartID, replica: PartitionReplica) throws(RPCError) -> CartWriteReply {
        let events = try Self.accepted(outcome)
        var last: CartEvent?
        for case .cart(let event) in events where event.cart == cart { last = event }
        if let last {
            return CartWriteReply(cart: cart, version: last.version, seq: last.seq, leaderHint: selfHint)
        }
        let current = replica.state.carts[cart]
        return CartWriteReply(cart: cart, version: current?.version ?? .zero, seq: current?.seq ?? .zero, leaderHint: selfHint)
    }
}

/// Requests that carry a request key.
protocol MutatingRequest: Sendable {
    var request: RequestKey { get }
}

extension CreateCartRequest: MutatingRequest {}
extension AddItemRequest: MutatingRequest {}
extension RemoveItemRequest: MutatingRequest {}
extension SetQuantityRequest: MutatingRequest {}
extension ShareCartRequest: MutatingRequest {}
extension UnshareCartRequest: MutatingRequest {}
extension CheckoutRequest: MutatingRequest {}

extension NodeServices {
    /// A replica-local read: `body` on this node's replica of `partition`, on its loop, from
    /// what the replica has applied; no leader is asked and nothing is forwarded, so it
    /// answers during an election or while a cut link keeps this node from the leader.
    /// Refused with `unavailable` and a hint naming another replica when this node hosts none
    /// of the partition, or its replica does not serve local reads
    /// (`PartitionReplica.localReadRefusal`): stopped, not yet in touch with a leader since it
    /// started, or without a leader for three election timeouts. The last two bound how stale
    /// an answer can be.
    func readLocally<T: Sendable>(_ partition: PartitionID, on loop: any EventLoop,
                                  _ body: @escaping @Sendable (PartitionReplica, ReplicaPosition) throws(RPCError) -> T) -> EventLoopFuture<T> {
        let refuse: @Sendable (String) -> EventLoopFuture<T> = { [self] reason in
            loop.makeFailedFuture(elsewhere(partition, because: reason, "read locally at another replica",
                                            retryAfterMs: UInt64(Router.retryPauseMs)))
        }
        guard let replica = replicas[partition] else { return refuse(notHosted(partition)) }
        let node = node
        let read: @Sendable () -> EventLoopFuture<T> = { [metrics] in
            if let reason = replica.localReadRefusal { return refuse("node \(node): \(reason)") }
            let position = ReplicaPosition(node: node, appliedIndex: replica.appliedIndex, commitIndex: replica.raft.commitIndex,
                                           leader: replica.raft.leaderHint)
            metrics.increment(.readsLocal)
            do { return replica.loop.makeSucceededFuture(try body(replica, position)) } catch { return replica.loop.makeFailedFuture(error) }
        }
        return (replica.loop.inEventLoop ? read() : replica.loop.flatSubmit(read)).hop(to: loop)
    }

    /// Why this node refuses what only a replica of `partition` serves.
    func notHosted(_ partition: PartitionID) -> String {
        "node \(node) does not host \(partition) (its replicas: \(placement.replicas(of: partition)))"
    }

    /// `unavailable` for what only a replica of `partition` serves (a watch, a local read) and
    /// this node cannot: `reason`, then `advice`, with a hint naming another replica.
    func elsewhere(_ partition: PartitionID, because reason: String, _ advice: String, retryAfterMs: UInt64? = nil) -> RPCError {
        var refusal = RPCError(.unavailable, "\(reason); \(advice)", retryAfterMs: retryAfterMs)
        refusal.leaderHint = router.replicaHint(for: partition)
        return refusal
    }
}
