import CartTypes

/// A partition's whole domain state as plain, ordered data: what is encoded when the Raft
/// log is compacted and decoded when a replica restarts or installs a snapshot.
///
/// Every collection is in a defined order (keys sorted, or insertion order where eviction
/// depends on it), so equal states give equal bytes on every replica and every run.
public struct PartitionSnapshot: Hashable, Codable, Sendable {
    public static let formatVersionCurrent: UInt32 = 1

    public var formatVersion: UInt32
    public var limits: DomainLimits
    /// Sorted by cart id, each with its retained history.
    public var carts: [CartRecord]
    /// Sorted by item id.
    public var items: [Item]
    /// Sorted by user id.
    public var users: [User]
    /// Held reservations, sorted by checkout id.
    public var reservationsHeld: [Reservation]
    /// Settled reservations, oldest settlement first (the eviction order).
    public var reservationsSettled: [Reservation]
    /// Oldest first (the eviction order).
    public var dedup: [DedupEntry]
    /// How many records each list holds. Encoded last: in a field-tagged encoding, bytes cut
    /// at a field boundary still decode (absent lists read as empty), so a snapshot proves it
    /// is complete by ending with its own counts.
    public var counts: RecordCounts

    public struct RecordCounts: Hashable, Codable, Sendable {
        public var carts: Int
        public var items: Int
        public var users: Int
        public var reservations: Int
        public var dedupEntries: Int

        enum CodingKeys: Int, CodingKey {
            case carts = 1, items = 2, users = 3, reservations = 4, dedupEntries = 5
        }
    }

    /// The counts the lists actually hold.
    public var actualCounts: RecordCounts {
        RecordCounts(carts: carts.count, items: items.count, users: users.count,
                     reservations: reservationsHeld.count + reservationsSettled.count, dedupEntries: dedup.count)
    }

    public struct CartRecord: Hashable, Codable, Sendable {
        public var cart: Cart
        public var history: CartHistory
        /// What the users' partitions may still miss about the cart's members; nil (no
        /// bytes) when nothing is pending (never an empty list).
        public var linksPending: PendingLinks?

        public init(cart: Cart, history: CartHistory, linksPending: PendingLinks? = nil) {
            self.cart = cart
            self.history = history
            self.linksPending = linksPending
        }

        enum CodingKeys: Int, CodingKey { case cart = 1, history = 2, linksPending = 3 }
    }

    enum CodingKeys: Int, CodingKey {
        case formatVersion = 1, limits = 2, carts = 3, items = 4, users = 5
        case reservationsHeld = 6, reservationsSettled = 7, dedup = 8, counts = 9
    }
}

/// Why bytes could not become a partition state. Snapshots come from disk or from a peer,
/// so a bad one is a typed error, never a crash.
public struct SnapshotError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: UInt16, Sendable {
        case undecodable = 1
        case unsupportedFormatVersion = 2
        case inconsistent = 3
        case unencodable = 4
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "snapshot error \(code.rawValue): \(message)" }
}

extension PartitionState {
    public func snapshot() -> PartitionSnapshot {
        let records = carts.keys.sorted().map { id in
            PartitionSnapshot.CartRecord(cart: carts[id]!, history: histories[id] ?? CartHistory(), linksPending: linksPending[id].map(PendingLinks.init(links:)))
        }
        let held = reservations.values.filter { $0.status == .held }.sorted { $0.checkout < $1.checkout }
        var snapshot = PartitionSnapshot(
            formatVersion: PartitionSnapshot.formatVersionCurrent,
            limits: limits,
            carts: records,
            items: items.keys.sorted().map { items[$0]! },
            users: users.keys.sorted().map { users[$0]! },
            reservationsHeld: held,
            reservationsSettled: settledReservations.keys.map { reservations[$0]! },
            dedup: dedup.entries,
            counts: PartitionSnapshot.RecordCounts(carts: 0, items: 0, users: 0, reservations: 0, dedupEntries: 0))
        snapshot.counts = snapshot.actualCounts
        return snapshot
    }

    /// Rebuilds the state a snapshot describes, checking it first: a snapshot is data from
    /// outside this process.
    public init(restoring snapshot: PartitionSnapshot) throws(SnapshotError) {
        guard snapshot.formatVersion == PartitionSnapshot.formatVersionCurrent else {
            throw SnapshotError(.unsupportedFormatVersion, "format version \(snapshot.formatVersion) is not \(PartitionSnapshot.formatVersionCurrent)")
        }
        guard snapshot.counts == snapshot.actualCounts else {
            throw SnapshotError(.inconsistent, "snapshot is incomplete: it declares \(snapshot.counts) but holds \(snapshot.actualCounts)")
        }
        guard snapshot.limits.dedupEntriesMax >= 0, snapshot.limits.dedupRetentionMs >= 0 else {
            throw SnapshotError(.inconsistent, "negative dedup limits (\(snapshot.limits.dedupEntriesMax) entries, \(snapshot.limits.dedupRetentionMs) ms)")
        }
        self.init(limits: snapshot.limits)
        for record in snapshot.carts {
            guard carts.updateValue(record.cart, forKey: record.cart.id) == nil else {
                throw SnapshotError(.inconsistent, "cart \(record.cart.id) appears twice")
            }
            histories[record.cart.id] = record.history
            linksPending[record.cart.id] = record.linksPending?.links
            indexCheckout(of: record.cart)  // derived, not in the snapshot bytes
        }
        for item in snapshot.items {
            guard item.stock >= 0 && item.reserved >= 0 else {
                throw SnapshotError(.inconsistent, "item \(item.id) has negative stock")
            }
            guard items.updateValue(item, forKey: item.id) == nil else {
                throw SnapshotError(.inconsistent, "item \(item.id) appears twice")
            }
        }
        for user in snapshot.users {
            guard users.updateValue(user, forKey: user.id) == nil else {
                throw SnapshotError(.inconsistent, "user \(user.id) appears twice")
            }
        }
        try restoreReservations(held: snapshot.reservationsHeld, settled: snapshot.reservationsSettled)
        try restoreDedup(snapshot.dedup)
        try validateRestored()
    }

    private mutating func restoreReservations(held: [Reservation], settled: [Reservation]) throws(SnapshotError) {
        for reservation in held + settled {
            let expectHeld = heldReservationCount < held.count
            guard (reservation.status == .held) == expectHeld else {
                throw SnapshotError(.inconsistent, "reservation \(reservation.checkout) is in the wrong list")
            }
            guard reservations.updateValue(reservation, forKey: reservation.checkout) == nil else {
                throw SnapshotError(.inconsistent, "reservation \(reservation.checkout) appears twice")
            }
            if expectHeld { heldReservationCount += 1 } else { settledReservations.append(reservation.checkout) }
        }
    }

    private mutating func restoreDedup(_ entries: [DedupEntry]) throws(SnapshotError) {
        guard entries.count <= limits.dedupEntriesMax else {
            throw SnapshotError(.inconsistent, "\(entries.count) dedup entries exceed the limit \(limits.dedupEntriesMax)")
        }
        for entry in entries {
            guard dedup.outcome(for: entry.key) == nil else {
                throw SnapshotError(.inconsistent, "request \(entry.key) appears twice")
            }
            dedup.restore(entry)
        }
    }
}
