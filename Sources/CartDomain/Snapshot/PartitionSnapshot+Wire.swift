import CartTypes
import CartWire

// The snapshot's hand-written wire fields. A snapshot is a whole partition (tens of MB for a
// busy one) and is encoded when the log is compacted and decoded on every restart and every
// follower install, so it is written and read field by field (with the carts, histories and
// events it holds, see `Model+Wire.swift` and `Events+Wire.swift`) instead of through the
// generic Codable walk, whose per-value type lookups and keyed-container scans dominated.
// The bytes are exactly the Codable encoding's: snapshots already on disk or in flight stay
// readable, and `SnapshotWireTests` compares both paths byte for byte and on damaged input.
//
// The one value still written and read through Codable is a refused command's `DomainError`
// inside a dedup entry: thirty cases of one or two fields, few of them per snapshot.

extension PartitionSnapshot: WireMessage {
    /// About the encoded size, so that the output array is allocated once: each event is a
    /// few dozen bytes of fields plus its strings.
    public var encodedBytesEstimate: Int {
        var bytes = 256
        for record in carts {
            bytes += 16 + record.cart.encodedBytesEstimate
            bytes += record.history.retained.count * (52 + record.cart.id.rawValue.utf8.count)
        }
        for item in items { bytes += 4 + item.encodedBytesEstimate }
        for user in users { bytes += 4 + user.encodedBytesEstimate }
        for reservation in reservationsHeld { bytes += 4 + reservation.encodedBytesEstimate }
        for reservation in reservationsSettled { bytes += 4 + reservation.encodedBytesEstimate }
        bytes += dedup.count * 96
        return bytes
    }

    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        writer.write(1, formatVersion)
        try writer.write(2, message: limits)
        for record in carts { try writer.write(3, message: record) }
        for item in items { try writer.write(4, message: item) }
        for user in users { try writer.write(5, message: user) }
        for reservation in reservationsHeld { try writer.write(6, message: reservation) }
        for reservation in reservationsSettled { try writer.write(7, message: reservation) }
        for entry in dedup { try writer.write(8, message: entry) }
        try writer.write(9, message: counts)
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        var formatVersion: WireField?, limits: WireField?, counts: WireField?
        var carts: [CartRecord] = []
        var items: [Item] = []
        var users: [User] = []
        var reservationsHeld: [Reservation] = []
        var reservationsSettled: [Reservation] = []
        var dedup: [DedupEntry] = []
        while let field = try reader.next() {
            switch field.number {
            case 1: formatVersion = field
            case 2: limits = field
            case 3: carts.append(try field.message(CartRecord.self))
            case 4: items.append(try field.message(Item.self))
            case 5: users.append(try field.message(User.self))
            case 6: reservationsHeld.append(try field.message(Reservation.self))
            case 7: reservationsSettled.append(try field.message(Reservation.self))
            case 8: dedup.append(try field.message(DedupEntry.self))
            case 9: counts = field
            default: break
            }
        }
        self.init(formatVersion: try formatVersion.required("formatVersion", 1, in: Self.self).uint32(),
                  limits: try limits.required("limits", 2, in: Self.self).message(DomainLimits.self),
                  carts: carts, items: items, users: users,
                  reservationsHeld: reservationsHeld, reservationsSettled: reservationsSettled, dedup: dedup,
                  counts: try counts.required("counts", 9, in: Self.self).message(RecordCounts.self))
    }
}

extension PartitionSnapshot.CartRecord: WireMessage {
    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        try writer.write(1, message: cart)
        try writer.write(2, message: history)
        if let linksPending { try writer.write(3, message: linksPending) }
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        var cart: WireField?, history: WireField?, linksPending: WireField?
        while let field = try reader.next() {
            switch field.number {
            case 1: cart = field
            case 2: history = field
            case 3: linksPending = field
            default: break
            }
        }
        let decodedCart = try cart.required("cart", 1, in: Self.self).message(Cart.self)
        self.init(cart: decodedCart,
                  history: try history.required("history", 2, in: Self.self).message { (fields) throws(WireEncodingError) in
                      try CartHistory(from: &fields, of: decodedCart.id)
                  },
                  linksPending: try linksPending?.message(PendingLinks.self))
    }
}

extension PartitionSnapshot.RecordCounts: WireMessage {
    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        writer.write(1, carts)
        writer.write(2, items)
        writer.write(3, users)
        writer.write(4, reservations)
        writer.write(5, dedupEntries)
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        var carts: WireField?, items: WireField?, users: WireField?, reservations: WireField?, dedupEntries: WireField?
        while let field = try reader.next() {
            switch field.number {
            case 1: carts = field
            case 2: items = field
            case 3: users = field
            case 4: reservations = field
            case 5: dedupEntries = field
            default: break
            }
        }
        self.init(carts: try carts.required("carts", 1, in: Self.self).int(),
                  items: try items.required("items", 2, in: Self.self).int(),
                  users: try users.required("users", 3, in: Self.self).int(),
                  reservations: try reservations.required("reservations", 4, in: Self.self).int(),
                  dedupEntries: try dedupEntries.required("dedupEntries", 5, in: Self.self).int())
    }
}

extension DomainLimits: WireMessage {
    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        writer.write(1, quantityMax)
        writer.write(2, itemsPerCartMax)
        writer.write(3, sharedUsersMax)
        writer.write(4, usersPerShareMax)
        writer.write(5, dedupEntriesMax)
        writer.write(6, historyEventsPerCartMax)
        writer.write(7, cartsPerUserMax)
        writer.write(8, cartsPerPartitionMax)
        writer.write(9, itemsPerPartitionMax)
        writer.write(10, usersPerPartitionMax)
        writer.write(11, reservationsHeldMax)
        writer.write(12, reservationsSettledMax)
        writer.write(13, itemNameBytesMax)
        writer.write(14, passwordHashBytesMax)
        writer.write(15, priceMinorUnitsMax)
        writer.write(16, stockMax)
        writer.write(17, reasonBytesMax)
        if dedupRetentionMs != 0 { writer.write(18, dedupRetentionMs) }
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        // Seventeen fields required, the eighteenth (dedupRetentionMs) optional: the last
        // occurrence of each, by number.
        var fields = [WireField?](repeating: nil, count: 19)
        while let field = try reader.next() {
            if field.number < 19 { fields[Int(field.number)] = field }
        }
        func int(_ number: Int, _ name: StaticString) throws(WireEncodingError) -> Int {
            try fields[number].required(name, UInt32(number), in: DomainLimits.self).int()
        }
        func int64(_ number: Int, _ name: StaticString) throws(WireEncodingError) -> Int64 {
            try fields[number].required(name, UInt32(number), in: DomainLimits.self).int64()
        }
        self.init()
        quantityMax = try int64(1, "quantityMax")
        itemsPerCartMax = try int(2, "itemsPerCartMax")
        sharedUsersMax = try int(3, "sharedUsersMax")
        usersPerShareMax = try int(4, "usersPerShareMax")
        dedupEntriesMax = try int(5, "dedupEntriesMax")
        historyEventsPerCartMax = try int(6, "historyEventsPerCartMax")
        cartsPerUserMax = try int(7, "cartsPerUserMax")
        cartsPerPartitionMax = try int(8, "cartsPerPartitionMax")
        itemsPerPartitionMax = try int(9, "itemsPerPartitionMax")
        usersPerPartitionMax = try int(10, "usersPerPartitionMax")
        reservationsHeldMax = try int(11, "reservationsHeldMax")
        reservationsSettledMax = try int(12, "reservationsSettledMax")
        itemNameBytesMax = try int(13, "itemNameBytesMax")
        passwordHashBytesMax = try int(14, "passwordHashBytesMax")
        priceMinorUnitsMax = try int64(15, "priceMinorUnitsMax")
        stockMax = try int64(16, "stockMax")
        reasonBytesMax = try int(17, "reasonBytesMax")
        dedupRetentionMs = try fields[18]?.int64() ?? 0
    }
}

extension DedupEntry: WireMessage {
    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        try writer.write(1, message: key)
        try writer.write(2, message: outcome)
        if let fingerprint { writer.write(3, fingerprint) }
        if let appliedAt { writer.write(4, appliedAt.millisecondsSinceEpoch) }
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        var key: WireField?, outcome: WireField?, fingerprint: WireField?, appliedAt: WireField?
        while let field = try reader.next() {
            switch field.number {
            case 1: key = field
            case 2: outcome = field
            case 3: fingerprint = field
            case 4: appliedAt = field
            default: break
            }
        }
        self.init(key: try key.required("key", 1, in: Self.self).message(RequestKey.self),
                  outcome: try outcome.required("outcome", 2, in: Self.self).message(CommandOutcome.self),
                  fingerprint: try fingerprint?.uint64(),
                  appliedAt: try appliedAt.map { (field) throws(WireEncodingError) in Timestamp(millisecondsSinceEpoch: try field.int64()) })
    }
}

extension CommandOutcome: WireMessage {
    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        switch self {
        case .accepted(let events):
            // The case's value is an array: a repeated field 1 in the case message (nothing
            // for no events).
            try writer.writeMessage(1) { (wrapper) throws(WireEncodingError) in
                for event in events { try wrapper.write(WireEnumCase.valueField, message: event) }
            }
        case .refused(let error):
            try writer.writeMessage(2) { (wrapper) throws(WireEncodingError) in
                try wrapper.write(WireEnumCase.valueField, encodable: error)
            }
        }
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        let found = try WireEnumCase.soleCase(&reader, cases: 1...2, of: Self.self)
        if found.number == 1 {
            self = .accepted(try found.field.message { (wrapper) throws(WireEncodingError) -> [Event] in
                var events: [Event] = []
                while let field = try wrapper.next() {
                    if field.number == WireEnumCase.valueField { events.append(try field.message(Event.self)) }
                }
                return events
            })
        } else {
            self = .refused(try WireEnumCase.value(of: found.field, in: Self.self).decode(DomainError.self))
        }
    }
}
