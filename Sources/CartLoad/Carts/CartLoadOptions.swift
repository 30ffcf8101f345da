import CartClient
import CartTLS
import CartTypes

/// What one `cartload carts` run does.
public struct CartLoadOptions: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        /// create, add, remove, share, get, checkout over `users` × `carts`.
        case mix
        /// Only `Cart.addItem`, spread over the carts: the replicated-write benchmark.
        case addItem = "add-item"
        /// Only `Cart.get`, spread over the carts: linearizable at the leaders, or local at
        /// every node with `localReads`.
        case get
        /// `watchers` watchers on one cart while a writer changes it `changesPerSecond` times.
        case watchFanout = "watch-fanout"
        /// Carts whose every change is recorded, read back and checked on every replica
        /// (`VerifyWorkload`): for runs with faults injected.
        case verify
    }

    /// Which node each `watch-fanout` watcher watches on.
    public enum WatchNode: String, Sendable, CaseIterable {
        /// The leader of the cart's partition: delivery is measured from the cluster's commit.
        case leader
        /// Watcher i on node i mod N: followers serve some watches, which shows their lag.
        case any
    }

    /// How load users prove who they are.
    public enum Identity: Sendable {
        /// Tokens minted from the cluster secret keyring at this path (operator access).
        case secret(path: String)
        /// `user:<name>` hello tokens, for nodes run with dev identities.
        case devIdentities
    }

    public var endpoints: [Endpoint]
    public var tls: TLSContext?
    public var identity: Identity
    /// The catalogue admin that puts the load's items (a name in the nodes' `--admin`).
    public var admin: UserID
    public var mode: Mode
    public var users: Int
    public var carts: Int
    /// Distinct items the workload adds.
    public var items: Int
    /// Operations in flight (closed loop), or the cap on them (open loop).
    public var concurrency: Int
    /// Operations per second in total (open loop); nil: closed loop.
    public var ratePerSecond: Double?
    public var durationSeconds: Double
    public var warmupSeconds: Double
    /// Connections each load user keeps to each node.
    public var connectionsPerNode: Int
    /// Prefix of the load's user, cart and item names, so runs do not collide.
    public var namePrefix: String
    public var watchers: Int
    public var changesPerSecond: Double
    public var watchNode: WatchNode
    /// Print a progress line each second (to stderr).
    public var progress: Bool
    /// The mix's cart reads are replica-local (any node answers from its own copy) rather
    /// than linearizable at the leader.
    public var localReads = false

    public init(endpoints: [Endpoint], tls: TLSContext?, identity: Identity, admin: UserID = "alice", mode: Mode = .mix, users: Int = 8,
                carts: Int = 256, items: Int = 32, concurrency: Int = 64, ratePerSecond: Double? = nil,
                durationSeconds: Double = 20, warmupSeconds: Double = 1, connectionsPerNode: Int = 1,
                namePrefix: String, watchers: Int = 10, changesPerSecond: Double = 1_000, watchNode: WatchNode = .leader,
                progress: Bool = true) {
        self.endpoints = endpoints
        self.tls = tls
        self.identity = identity
        self.admin = admin
        self.mode = mode
        self.users = users
        self.carts = carts
        self.items = items
        self.concurrency = concurrency
        self.ratePerSecond = ratePerSecond
        self.durationSeconds = durationSeconds
        self.warmupSeconds = warmupSeconds
        self.connectionsPerNode = connectionsPerNode
        self.namePrefix = namePrefix
        self.watchers = watchers
        self.changesPerSecond = changesPerSecond
        self.watchNode = watchNode
        self.progress = progress
    }
}
