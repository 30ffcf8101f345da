/// Every bound the domain enforces, each named with its unit. The limits are part of the
/// replicated state (and of the snapshot): every replica of a partition must decide with the
/// same numbers, so they change only through a new snapshot, never per node. A replica with
/// no snapshot yet takes this build's defaults; the log does not carry them. So a cluster
/// holding data written under other defaults (before `dedupRetentionMs` existed, say) must
/// not be upgraded in place: a replica restored from an old snapshot and one replaying the
/// log from the start would answer a late retry differently.
public struct DomainLimits: Hashable, Codable, Sendable {
    /// Units of one item in one cart, and units of one item in one stock command.
    public var quantityMax: Int64 = 1_000
    /// Distinct items in one cart.
    public var itemsPerCartMax: Int = 100
    /// Users a cart is shared with (the owner is not counted).
    public var sharedUsersMax: Int = 16
    /// Users one `ShareCart` command may name.
    public var usersPerShareMax: Int = 16
    /// Remembered (client, request) results per partition at most; the oldest is forgotten
    /// first. A memory bound: 60,000 holds `dedupRetentionMs` of 2,000 writes/s on one
    /// partition (~32,000 writes/s over 16 partitions); an add-item outcome takes ~340 bytes
    /// in memory and ~80 in a snapshot, so a full window is ~20 MB and ~5 MB.
    public var dedupEntriesMax: Int = 60_000
    /// How long (by the log entries' timestamps) a request's result is remembered for its
    /// retries: twice a client's whole-operation deadline (15 s), leaving room for leaders'
    /// clocks to disagree. 0 keeps the last `dedupEntriesMax` results whatever their age, as
    /// snapshots taken before this limit existed do (they lack its field, 18).
    public var dedupRetentionMs: Int64 {
        get { dedupRetentionMsField ?? 0 }
        set { dedupRetentionMsField = newValue == 0 ? nil : newValue }
    }
    /// Stored as an optional so that encodings without it (0) stay what they were.
    private var dedupRetentionMsField: Int64? = 30_000
    /// Events kept per cart for `history(of:from:)`; older ones are forgotten.
    public var historyEventsPerCartMax: Int = 64
    /// Carts one user owns or shares.
    public var cartsPerUserMax: Int = 1_000
    /// Carts, items and users one partition stores.
    public var cartsPerPartitionMax: Int = 2_000_000
    public var itemsPerPartitionMax: Int = 1_000_000
    public var usersPerPartitionMax: Int = 1_000_000
    /// Reservations held (not yet committed or released) on one partition.
    public var reservationsHeldMax: Int = 100_000
    /// Settled reservations remembered per partition for idempotent retries; oldest first out.
    public var reservationsSettledMax: Int = 100_000
    /// An item's name in UTF-8 bytes.
    public var itemNameBytesMax: Int = 200
    /// A stored password hash (salt and parameters included) in bytes.
    public var passwordHashBytesMax: Int = 256
    /// An item's unit price in minor units.
    public var priceMinorUnitsMax: Int64 = 1_000_000_000
    /// Units of one item in stock (available plus reserved).
    public var stockMax: Int64 = 1_000_000_000_000
    /// Bytes of an abort reason carried in `CartCheckoutAborted`.
    public var reasonBytesMax: Int = 256

    public init() {}

    public static let standard = DomainLimits()

    enum CodingKeys: Int, CodingKey {
        case quantityMax = 1, itemsPerCartMax = 2, sharedUsersMax = 3, usersPerShareMax = 4
        case dedupEntriesMax = 5, historyEventsPerCartMax = 6, cartsPerUserMax = 7
        case cartsPerPartitionMax = 8, itemsPerPartitionMax = 9, usersPerPartitionMax = 10
        case reservationsHeldMax = 11, reservationsSettledMax = 12, itemNameBytesMax = 13
        case passwordHashBytesMax = 14, priceMinorUnitsMax = 15, stockMax = 16, reasonBytesMax = 17
        case dedupRetentionMsField = 18
    }
}
