import CartDomain
import CartRPC
import CartTypes
import CartWire

/// `Cart.create`: a new, empty, active cart owned by the caller.
///
/// `cart` may be chosen by the client (any non-empty id up to `CartID.bytesMax` bytes); when
/// absent the server derives it from the request key (`c<client>-r<request>`), so a retried
/// create lands on the same partition and is deduplicated there.
public struct CreateCartRequest: Codable, Hashable, Sendable, RPCMessage {
    public var cart: CartID?
    public var request: RequestKey

    public init(cart: CartID? = nil, request: RequestKey) {
        self.cart = cart
        self.request = request
    }

    enum CodingKeys: Int, CodingKey { case cart = 1, request = 2 }
}

/// `Cart.get`: the cart as its partition holds it. Served at the partition's leader after a
/// ReadIndex round (linearizable), or with `local` from the asked node's own replica.
public struct GetCartRequest: Codable, Hashable, Sendable, RPCMessage {
    public var cart: CartID
    /// Serve from the asked node's replica as far as it has applied, without the leader
    /// (see `ReplicaPosition`); nil or false: linearizable.
    public var local: Bool?

    public init(cart: CartID, local: Bool? = nil) {
        self.cart = cart
        self.local = local
    }

    enum CodingKeys: Int, CodingKey { case cart = 1, local = 2 }
}

/// `Cart.addItem`: adds `quantity` units (the line's price is the item's price when the line
/// was first added).
public struct AddItemRequest: Codable, Hashable, Sendable, RPCMessage {
    public var cart: CartID
    public var item: ItemID
    public var quantity: Int64
    public var expectedVersion: Version?
    public var request: RequestKey

    public init(cart: CartID, item: ItemID, quantity: Int64, expectedVersion: Version? = nil, request: RequestKey) {
        self.cart = cart
        self.item = item
        self.quantity = quantity
        self.expectedVersion = expectedVersion
        self.request = request
    }

    enum CodingKeys: Int, CodingKey { case cart = 1, item = 2, quantity = 3, expectedVersion = 4, request = 5 }
}

/// `Cart.removeItem`: drops an item's line.
public struct RemoveItemRequest: Codable, Hashable, Sendable, RPCMessage {
    public var cart: CartID
    public var item: ItemID
    public var expectedVersion: Version?
    public var request: RequestKey

    public init(cart: CartID, item: ItemID, expectedVersion: Version? = nil, request: RequestKey) {
        self.cart = cart
        self.item = item
        self.expectedVersion = expectedVersion
        self.request = request
    }

    enum CodingKeys: Int, CodingKey { case cart = 1, item = 2, expectedVersion = 3, request = 4 }
}

/// `Cart.setQuantity`: sets the quantity of a line already in the cart.
public struct SetQuantityRequest: Codable, Hashable, Sendable, RPCMessage {
    public var cart: CartID
    public var item: ItemID
    public var quantity: Int64
    public var expectedVersion: Version?
    public var request: RequestKey

    public init(cart: CartID, item: ItemID, quantity: Int64, expectedVersion: Version? = nil, request: RequestKey) {
        self.cart = cart
        self.item = item
        self.quantity = quantity
        self.expectedVersion = expectedVersion
        self.request = request
    }

    enum CodingKeys: Int, CodingKey { case cart = 1, item = 2, quantity = 3, expectedVersion = 4, request = 5 }
}

/// `Cart.share`: the owner shares the cart with `users` (all or nothing).
public struct ShareCartRequest: Codable, Hashable, Sendable, RPCMessage {
    public var cart: CartID
    public var users: [UserID]
    public var expectedVersion: Version?
    public var request: RequestKey

    public init(cart: CartID, users: [UserID], expectedVersion: Version? = nil, request: RequestKey) {
        self.cart = cart
        self.users = users
        self.expectedVersion = expectedVersion
        self.request = request
    }

    enum CodingKeys: Int, CodingKey { case cart = 1, users = 2, expectedVersion = 3, request = 4 }
}

/// `Cart.unshare`: the owner removes a user, or a shared user leaves.
public struct UnshareCartRequest: Codable, Hashable, Sendable, RPCMessage {
    public var cart: CartID
    public var user: UserID
    public var expectedVersion: Version?
    public var request: RequestKey

    public init(cart: CartID, user: UserID, expectedVersion: Version? = nil, request: RequestKey) {
        self.cart = cart
        self.user = user
        self.expectedVersion = expectedVersion
        self.request = request
    }

    enum CodingKeys: Int, CodingKey { case cart = 1, user = 2, expectedVersion = 3, request = 4 }
}

/// `Cart.checkout`: reserves stock for every line (the saga of CartDomain's Saga.md). The
/// answer comes once the cart's partition has decided: a `CheckoutReply` when every line was
/// reserved, or `failedPrecondition` whose message names the short item when not.
public struct CheckoutRequest: Codable, Hashable, Sendable, RPCMessage {
    public var cart: CartID
    public var expectedVersion: Version?
    public var request: RequestKey

    public init(cart: CartID, expectedVersion: Version? = nil, request: RequestKey) {
        self.cart = cart
        self.expectedVersion = expectedVersion
        self.request = request
    }

    enum CodingKeys: Int, CodingKey { case cart = 1, expectedVersion = 2, request = 3 }
}

/// `Cart.events`: a page of the cart's retained history, events with seq ≥ `fromSeq`
/// (0 and 1 both mean "from the first event"). Fails with `failedPrecondition`
/// (`historyTruncated`) when `fromSeq` is older than the oldest retained event.
public struct CartEventsRequest: Codable, Hashable, Sendable, RPCMessage {
    public var cart: CartID
    public var fromSeq: Seq
    /// At most this many events; the server caps it at `CartAPILimits.eventsPerPageMax`.
    public var eventsMax: UInt32
    /// As `GetCartRequest.local`: this node's replica's copy of the history.
    public var local: Bool?

    public init(cart: CartID, fromSeq: Seq, eventsMax: UInt32 = CartAPILimits.eventsPerPageMax, local: Bool? = nil) {
        self.cart = cart
        self.fromSeq = fromSeq
        self.eventsMax = eventsMax
        self.local = local
    }

    enum CodingKeys: Int, CodingKey { case cart = 1, fromSeq = 2, eventsMax = 3, local = 4 }
}

// MARK: Replies

/// The answer to every cart write: where the cart stands after it.
public struct CartWriteReply: Codable, Hashable, Sendable, RPCMessage {
    public var cart: CartID
    /// The cart's version after the write (the value to send as the next `expectedVersion`).
    public var version: Version
    /// The seq of the cart's newest event after the write.
    public var seq: Seq
    /// The partition leader that applied the write (set when the request was forwarded).
    public var leaderHint: LeaderHint?

    public init(cart: CartID, version: Version, seq: Seq, leaderHint: LeaderHint? = nil) {
        self.cart = cart
        self.version = version
        self.seq = seq
        self.leaderHint = leaderHint
    }

    enum CodingKeys: Int, CodingKey { case cart = 1, version = 2, seq = 3, leaderHint = 4 }
}

/// The answer to `Cart.get`.
public struct CartReply: Codable, Hashable, Sendable, RPCMessage {
    public var cart: Cart
    public var leaderHint: LeaderHint?
    /// Set on a local read: the replica that answered and how far it had applied.
    public var servedBy: ReplicaPosition?

    public init(cart: Cart, leaderHint: LeaderHint? = nil, servedBy: ReplicaPosition? = nil) {
        self.cart = cart
        self.leaderHint = leaderHint
        self.servedBy = servedBy
    }

    enum CodingKeys: Int, CodingKey { case cart = 1, leaderHint = 2, servedBy = 3 }
}

/// Where a local read was served: a replica's copy as of `appliedIndex` in its partition's
/// log. A local read sees every write that replica has applied, which may not yet be every
/// write acknowledged (a lagging follower, or one that an election or a cut link keeps from
/// its leader, for at most two to three seconds); two local reads at different replicas may go
/// back in time. To see its own write, a client compares the cart's `seq` with the write
/// reply's. Access is checked against the same copy: a user unshared after `appliedIndex`
/// still reads it as of then.
public struct ReplicaPosition: Codable, Hashable, Sendable {
    public var node: NodeID
    /// The last entry of the partition's log this replica had applied when it answered.
    public var appliedIndex: LogIndex
    /// The partition's commit index as this replica knew it: its own view, which a replica
    /// out of touch with its leader does not advance.
    public var commitIndex: LogIndex
    /// The leader this replica knew of (`.none` while it knows none).
    public var leader: NodeID

    public init(node: NodeID, appliedIndex: LogIndex, commitIndex: LogIndex, leader: NodeID) {
        self.node = node
        self.appliedIndex = appliedIndex
        self.commitIndex = commitIndex
        self.leader = leader
    }

    enum CodingKeys: Int, CodingKey { case node = 1, appliedIndex = 2, commitIndex = 3, leader = 4 }
}

/// The answer to a successful `Cart.checkout`.
public struct CheckoutReply: Codable, Hashable, Sendable, RPCMessage {
    public var cart: CartID
    public var checkout: CheckoutID
    public var total: Money
    public var version: Version
    public var seq: Seq

    public init(cart: CartID, checkout: CheckoutID, total: Money, version: Version, seq: Seq) {
        self.cart = cart
        self.checkout = checkout
        self.total = total
        self.version = version
        self.seq = seq
    }

    enum CodingKeys: Int, CodingKey { case cart = 1, checkout = 2, total = 3, version = 4, seq = 5 }
}

/// The answer to `Cart.events`.
public struct CartEventsReply: Codable, Hashable, Sendable, RPCMessage {
    public var events: [CartEvent]
    /// The seq of the cart's newest event when the page was read.
    public var cartSeq: Seq
    /// Set on a local read, as in `CartReply`.
    public var servedBy: ReplicaPosition?

    public init(events: [CartEvent], cartSeq: Seq, servedBy: ReplicaPosition? = nil) {
        self.events = events
        self.cartSeq = cartSeq
        self.servedBy = servedBy
    }

    enum CodingKeys: Int, CodingKey { case events = 1, cartSeq = 2, servedBy = 3 }
}
