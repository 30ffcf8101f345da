import CartTypes
import CartWire

// Hand-written wire fields for events: every cart's retained history (most of a snapshot's
// bytes) and the events a dedup entry remembers. Same bytes as the Codable encoding, read the
// way Codable reads them (see `WireFieldsSupport.swift`); `SnapshotWireTests` compares both
// paths. An enum is a message holding one field numbered by its case, whose message holds the
// payload struct as field 1 (`_0`).

extension CartHistory: WireMessage {
    public var encodedBytesEstimate: Int { retained.count * 80 }

    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        // Each event borrowed in place from the ring (no copy of the event and its strings).
        for position in retained.indices {
            try writer.writeMessage(1) { (fields) throws(WireEncodingError) in try retained[position].encode(to: &fields) }
        }
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        try self.init(from: &reader, of: nil)
    }

    /// A history read as part of its cart's record: each event's cart id that equals `cart`
    /// shares its storage instead of being a copy per event.
    init(from reader: inout WireFieldReader, of cart: CartID?) throws(WireEncodingError) {
        var events: [CartEvent] = []
        while let field = try reader.next() {
            if field.number == 1 {
                events.append(try field.message { (fields) throws(WireEncodingError) in try CartEvent(from: &fields, of: cart) })
            }
        }
        self.init(events: events)
    }
}

extension CartEvent: WireMessage {
    public var encodedBytesEstimate: Int { 80 + cart.rawValue.utf8.count }

    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        writer.write(1, cart)
        writer.write(2, seq)
        writer.write(3, version)
        writer.write(4, timestamp.millisecondsSinceEpoch)
        try writer.write(5, message: change)
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        try self.init(from: &reader, of: nil)
    }

    /// `expectedCart`: the id this event's cart field most likely holds (see `CartHistory`).
    init(from reader: inout WireFieldReader, of expectedCart: CartID?) throws(WireEncodingError) {
        var cart: WireField?, seq: WireField?, version: WireField?, timestamp: WireField?, change: WireField?
        while let field = try reader.next() {
            switch field.number {
            case 1: cart = field
            case 2: seq = field
            case 3: version = field
            case 4: timestamp = field
            case 5: change = field
            default: break
            }
        }
        let cartField = try cart.required("cart", 1, in: Self.self)
        let cartID = if let expectedCart { try cartField.identifier(CartID.self, reusing: expectedCart) } else { try cartField.identifier(CartID.self) }
        self.init(cart: cartID,
                  seq: try seq.required("seq", 2, in: Self.self).identifier(Seq.self),
                  version: try version.required("version", 3, in: Self.self).identifier(Version.self),
                  timestamp: Timestamp(millisecondsSinceEpoch: try timestamp.required("timestamp", 4, in: Self.self).int64()),
                  change: try change.required("change", 5, in: Self.self).message(CartChange.self))
    }
}

extension CartChange: WireMessage {
    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        switch self {
        case .created(let value):
            try WireEnumCase.write(1, to: &writer) { (fields) throws(WireEncodingError) in
                fields.write(1, value.owner)
            }
        case .itemAdded(let value):
            try WireEnumCase.write(2, to: &writer) { (fields) throws(WireEncodingError) in
                fields.write(1, value.actor)
                try fields.write(2, message: value.line)
                fields.write(3, value.quantityAdded)
            }
        case .itemRemoved(let value):
            try WireEnumCase.write(3, to: &writer) { (fields) throws(WireEncodingError) in
                fields.write(1, value.actor)
                fields.write(2, value.item)
            }
        case .modified(let value):
            try WireEnumCase.write(4, to: &writer) { (fields) throws(WireEncodingError) in
                fields.write(1, value.actor)
                fields.write(2, value.item)
                fields.write(3, value.quantity)
            }
        case .shared(let value):
            try WireEnumCase.write(5, to: &writer) { (fields) throws(WireEncodingError) in
                fields.write(1, value.user)
            }
        case .unshared(let value):
            try WireEnumCase.write(6, to: &writer) { (fields) throws(WireEncodingError) in
                fields.write(1, value.user)
            }
        case .checkoutStarted(let value):
            try WireEnumCase.write(7, to: &writer) { (fields) throws(WireEncodingError) in
                fields.write(1, value.actor)
                fields.write(2, value.checkout)
                for line in value.lines { try fields.write(3, message: line) }
                fields.write(4, value.total.minorUnits)
            }
        case .checkout(let value):
            try WireEnumCase.write(8, to: &writer) { (fields) throws(WireEncodingError) in
                fields.write(1, value.checkout)
                fields.write(2, value.total.minorUnits)
            }
        case .checkoutAborted(let value):
            try WireEnumCase.write(9, to: &writer) { (fields) throws(WireEncodingError) in
                fields.write(1, value.checkout)
                fields.write(2, value.reason)
            }
        case .checkoutSettled(let value):
            try WireEnumCase.write(10, to: &writer) { (fields) throws(WireEncodingError) in
                fields.write(1, value.checkout)
            }
        }
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        let (number, value) = try WireEnumCase.read(&reader, cases: 1...10, of: Self.self)
        switch number {
        case 1: self = .created(try value.message(Self.decodeCreated))
        case 2: self = .itemAdded(try value.message(Self.decodeItemAdded))
        case 3: self = .itemRemoved(try value.message(Self.decodeItemRemoved))
        case 4: self = .modified(try value.message(Self.decodeModified))
        case 5: self = .shared(try value.message(Self.decodeShared))
        case 6: self = .unshared(try value.message(Self.decodeUnshared))
        case 7: self = .checkoutStarted(try value.message(Self.decodeCheckoutStarted))
        case 8: self = .checkout(try value.message(Self.decodeCheckout))
        case 9: self = .checkoutAborted(try value.message(Self.decodeCheckoutAborted))
        default: self = .checkoutSettled(try value.message(Self.decodeCheckoutSettled))
        }
    }

    private static func decodeCreated(_ reader: inout WireFieldReader) throws(WireEncodingError) -> CartCreated {
        var owner: WireField?
        while let field = try reader.next() {
            if field.number == 1 { owner = field }
        }
        return CartCreated(owner: try owner.required("owner", 1, in: CartCreated.self).identifier(UserID.self))
    }

    private static func decodeItemAdded(_ reader: inout WireFieldReader) throws(WireEncodingError) -> CartItemAdded {
        var actor: WireField?, line: WireField?, quantityAdded: WireField?
        while let field = try reader.next() {
            switch field.number {
            case 1: actor = field
            case 2: line = field
            case 3: quantityAdded = field
            default: break
            }
        }
        return CartItemAdded(actor: try actor.required("actor", 1, in: CartItemAdded.self).identifier(UserID.self),
                             line: try line.required("line", 2, in: CartItemAdded.self).message(CartLine.self),
                             quantityAdded: try quantityAdded.required("quantityAdded", 3, in: CartItemAdded.self).int64())
    }

    private static func decodeItemRemoved(_ reader: inout WireFieldReader) throws(WireEncodingError) -> CartItemRemoved {
        var actor: WireField?, item: WireField?
        while let field = try reader.next() {
            switch field.number {
            case 1: actor = field
            case 2: item = field
            default: break
            }
        }
        return CartItemRemoved(actor: try actor.required("actor", 1, in: CartItemRemoved.self).identifier(UserID.self),
                               item: try item.required("item", 2, in: CartItemRemoved.self).identifier(ItemID.self))
    }

    private static func decodeModified(_ reader: inout WireFieldReader) throws(WireEncodingError) -> CartModified {
        var actor: WireField?, item: WireField?, quantity: WireField?
        while let field = try reader.next() {
            switch field.number {
            case 1: actor = field
            case 2: item = field
            case 3: quantity = field
            default: break
            }
        }
        return CartModified(actor: try actor.required("actor", 1, in: CartModified.self).identifier(UserID.self),
                            item: try item.required("item", 2, in: CartModified.self).identifier(ItemID.self),
                            quantity: try quantity.required("quantity", 3, in: CartModified.self).int64())
    }

    private static func decodeShared(_ reader: inout WireFieldReader) throws(WireEncodingError) -> CartShared {
        var user: WireField?
        while let field = try reader.next() {
            if field.number == 1 { user = field }
        }
        return CartShared(user: try user.required("user", 1, in: CartShared.self).identifier(UserID.self))
    }

    private static func decodeUnshared(_ reader: inout WireFieldReader) throws(WireEncodingError) -> CartUnshared {
        var user: WireField?
        while let field = try reader.next() {
            if field.number == 1 { user = field }
        }
        return CartUnshared(user: try user.required("user", 1, in: CartUnshared.self).identifier(UserID.self))
    }

    private static func decodeCheckoutStarted(_ reader: inout WireFieldReader) throws(WireEncodingError) -> CartCheckoutStarted {
        var actor: WireField?, checkout: WireField?, total: WireField?
        var lines: [StockLine] = []
        while let field = try reader.next() {
            switch field.number {
            case 1: actor = field
            case 2: checkout = field
            case 3: lines.append(try field.message(StockLine.self))
            case 4: total = field
            default: break
            }
        }
        return CartCheckoutStarted(actor: try actor.required("actor", 1, in: CartCheckoutStarted.self).identifier(UserID.self),
                                   checkout: try checkout.required("checkout", 2, in: CartCheckoutStarted.self).identifier(CheckoutID.self),
                                   lines: lines,
                                   total: Money(minorUnits: try total.required("total", 4, in: CartCheckoutStarted.self).int64()))
    }

    private static func decodeCheckout(_ reader: inout WireFieldReader) throws(WireEncodingError) -> CartCheckout {
        var checkout: WireField?, total: WireField?
        while let field = try reader.next() {
            switch field.number {
            case 1: checkout = field
            case 2: total = field
            default: break
            }
        }
        return CartCheckout(checkout: try checkout.required("checkout", 1, in: CartCheckout.self).identifier(CheckoutID.self),
                            total: Money(minorUnits: try total.required("total", 2, in: CartCheckout.self).int64()))
    }

    private static func decodeCheckoutAborted(_ reader: inout WireFieldReader) throws(WireEncodingError) -> CartCheckoutAborted {
        var checkout: WireField?, reason: WireField?
        while let field = try reader.next() {
            switch field.number {
            case 1: checkout = field
            case 2: reason = field
            default: break
            }
        }
        return CartCheckoutAborted(checkout: try checkout.required("checkout", 1, in: CartCheckoutAborted.self).identifier(CheckoutID.self),
                                   reason: try reason.required("reason", 2, in: CartCheckoutAborted.self).string())
    }

    private static func decodeCheckoutSettled(_ reader: inout WireFieldReader) throws(WireEncodingError) -> CartCheckoutSettled {
        var checkout: WireField?
        while let field = try reader.next() {
            if field.number == 1 { checkout = field }
        }
        return CartCheckoutSettled(checkout: try checkout.required("checkout", 1, in: CartCheckoutSettled.self).identifier(CheckoutID.self))
    }
}

extension Event: WireMessage {
    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        switch self {
        case .cart(let event): try WireEnumCase.write(1, event, to: &writer)
        case .item(let event): try WireEnumCase.write(2, event, to: &writer)
        case .user(let event): try WireEnumCase.write(3, event, to: &writer)
        case .links(let event): try WireEnumCase.write(4, event, to: &writer)
        }
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        let (number, value) = try WireEnumCase.read(&reader, cases: 1...4, of: Self.self)
        switch number {
        case 1: self = .cart(try value.message(CartEvent.self))
        case 2: self = .item(try value.message(ItemEvent.self))
        case 3: self = .user(try value.message(UserEvent.self))
        default: self = .links(try value.message(LinksConfirmed.self))
        }
    }
}

extension LinksConfirmed: WireMessage {
    public var encodedBytesEstimate: Int { 8 + links.reduce(0) { $0 + $1.encodedBytesEstimate + 4 } }

    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        for link in links { try writer.write(1, message: link) }
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        var links: [LinkAtSeq] = []
        while let field = try reader.next() {
            if field.number == 1 { links.append(try field.message(LinkAtSeq.self)) }
        }
        self.init(links: links)
    }
}

extension LinkAtSeq: WireMessage {
    public var encodedBytesEstimate: Int { 16 + cart.rawValue.utf8.count + user.rawValue.utf8.count }

    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        writer.write(1, cart)
        writer.write(2, user)
        writer.write(3, seq)
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        var cart: WireField?, user: WireField?, seq: WireField?
        while let field = try reader.next() {
            switch field.number {
            case 1: cart = field
            case 2: user = field
            case 3: seq = field
            default: break
            }
        }
        self.init(cart: try cart.required("cart", 1, in: Self.self).identifier(CartID.self),
                  user: try user.required("user", 2, in: Self.self).identifier(UserID.self),
                  seq: try seq.required("seq", 3, in: Self.self).identifier(Seq.self))
    }
}

extension PendingLink: WireMessage {
    public var encodedBytesEstimate: Int { 24 + user.rawValue.utf8.count }

    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        writer.write(1, user)
        writer.write(2, seq)
        writer.write(3, linked)
        writer.write(4, since.millisecondsSinceEpoch)
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        var user: WireField?, seq: WireField?, linked: WireField?, since: WireField?
        while let field = try reader.next() {
            switch field.number {
            case 1: user = field
            case 2: seq = field
            case 3: linked = field
            case 4: since = field
            default: break
            }
        }
        self.init(user: try user.required("user", 1, in: Self.self).identifier(UserID.self),
                  seq: try seq.required("seq", 2, in: Self.self).identifier(Seq.self),
                  linked: try linked.required("linked", 3, in: Self.self).bool(),
                  since: Timestamp(millisecondsSinceEpoch: try since.required("since", 4, in: Self.self).int64()))
    }
}

extension PendingLinks: WireMessage {
    public var encodedBytesEstimate: Int { 8 + links.reduce(0) { $0 + $1.encodedBytesEstimate + 4 } }

    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        for link in links { try writer.write(1, message: link) }
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        var links: [PendingLink] = []
        while let field = try reader.next() {
            if field.number == 1 { links.append(try field.message(PendingLink.self)) }
        }
        self.init(links: links)
    }
}

extension ItemEvent: WireMessage {
    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        switch self {
        case .itemPut(let value):
            try WireEnumCase.write(1, to: &writer) { (fields) throws(WireEncodingError) in
                try fields.write(1, message: value.item)
            }
        case .stockAdjusted(let value):
            try WireEnumCase.write(2, to: &writer) { (fields) throws(WireEncodingError) in
                fields.write(1, value.item)
                fields.write(2, value.delta)
                fields.write(3, value.stock)
            }
        case .stockReserved(let value):
            try WireEnumCase.write(3, to: &writer) { (fields) throws(WireEncodingError) in
                try Self.encodeStock(value.checkout, value.lines, to: &fields)
            }
        case .stockReleased(let value):
            try WireEnumCase.write(4, to: &writer) { (fields) throws(WireEncodingError) in
                try Self.encodeStock(value.checkout, value.lines, to: &fields)
            }
        case .reservationCommitted(let value):
            try WireEnumCase.write(5, to: &writer) { (fields) throws(WireEncodingError) in
                try Self.encodeStock(value.checkout, value.lines, to: &fields)
            }
        }
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        let (number, value) = try WireEnumCase.read(&reader, cases: 1...5, of: Self.self)
        switch number {
        case 1:
            self = .itemPut(try value.message { (fields) throws(WireEncodingError) -> ItemPut in
                var item: WireField?
                while let field = try fields.next() {
                    if field.number == 1 { item = field }
                }
                return ItemPut(item: try item.required("item", 1, in: ItemPut.self).message(Item.self))
            })
        case 2:
            self = .stockAdjusted(try value.message { (fields) throws(WireEncodingError) -> StockAdjusted in
                var item: WireField?, delta: WireField?, stock: WireField?
                while let field = try fields.next() {
                    switch field.number {
                    case 1: item = field
                    case 2: delta = field
                    case 3: stock = field
                    default: break
                    }
                }
                return StockAdjusted(item: try item.required("item", 1, in: StockAdjusted.self).identifier(ItemID.self),
                                     delta: try delta.required("delta", 2, in: StockAdjusted.self).int64(),
                                     stock: try stock.required("stock", 3, in: StockAdjusted.self).int64())
            })
        case 3:
            let (checkout, lines) = try value.message { (fields) throws(WireEncodingError) in try Self.decodeStock(&fields, in: StockReserved.self) }
            self = .stockReserved(StockReserved(checkout: checkout, lines: lines))
        case 4:
            let (checkout, lines) = try value.message { (fields) throws(WireEncodingError) in try Self.decodeStock(&fields, in: StockReleased.self) }
            self = .stockReleased(StockReleased(checkout: checkout, lines: lines))
        default:
            let (checkout, lines) = try value.message { (fields) throws(WireEncodingError) in try Self.decodeStock(&fields, in: ReservationCommitted.self) }
            self = .reservationCommitted(ReservationCommitted(checkout: checkout, lines: lines))
        }
    }

    /// `StockReserved`, `StockReleased` and `ReservationCommitted` share their fields:
    /// 1 checkout, 2 lines (repeated).
    private static func encodeStock(_ checkout: CheckoutID, _ lines: [StockLine], to writer: inout WireFieldWriter) throws(WireEncodingError) {
        writer.write(1, checkout)
        for line in lines { try writer.write(2, message: line) }
    }

    private static func decodeStock(_ reader: inout WireFieldReader, in type: Any.Type) throws(WireEncodingError) -> (CheckoutID, [StockLine]) {
        var checkout: WireField?
        var lines: [StockLine] = []
        while let field = try reader.next() {
            switch field.number {
            case 1: checkout = field
            case 2: lines.append(try field.message(StockLine.self))
            default: break
            }
        }
        return (try checkout.required("checkout", 1, in: type).identifier(CheckoutID.self), lines)
    }
}

extension UserEvent: WireMessage {
    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        switch self {
        case .registered(let value):
            try WireEnumCase.write(1, to: &writer) { (fields) throws(WireEncodingError) in
                fields.write(1, value.user)
                fields.write(2, value.passwordHash)
                fields.write(3, value.timestamp.millisecondsSinceEpoch)
            }
        case .cartLinked(let value):
            try WireEnumCase.write(2, to: &writer) { (fields) throws(WireEncodingError) in
                fields.write(1, value.user)
                try fields.write(2, message: value.link)
                if let cartSeq = value.cartSeq { fields.write(3, cartSeq) }
            }
        case .cartUnlinked(let value):
            try WireEnumCase.write(3, to: &writer) { (fields) throws(WireEncodingError) in
                fields.write(1, value.user)
                fields.write(2, value.cart)
                if let cartSeq = value.cartSeq { fields.write(3, cartSeq) }
            }
        }
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        let (number, value) = try WireEnumCase.read(&reader, cases: 1...3, of: Self.self)
        switch number {
        case 1:
            self = .registered(try value.message { (fields) throws(WireEncodingError) -> UserRegistered in
                var user: WireField?, passwordHash: WireField?, timestamp: WireField?
                while let field = try fields.next() {
                    switch field.number {
                    case 1: user = field
                    case 2: passwordHash = field
                    case 3: timestamp = field
                    default: break
                    }
                }
                return UserRegistered(user: try user.required("user", 1, in: UserRegistered.self).identifier(UserID.self),
                                      passwordHash: try passwordHash.required("passwordHash", 2, in: UserRegistered.self).bytes(),
                                      timestamp: Timestamp(millisecondsSinceEpoch: try timestamp.required("timestamp", 3, in: UserRegistered.self).int64()))
            })
        case 2:
            self = .cartLinked(try value.message { (fields) throws(WireEncodingError) -> UserCartLinked in
                var user: WireField?, link: WireField?, cartSeq: WireField?
                while let field = try fields.next() {
                    switch field.number {
                    case 1: user = field
                    case 2: link = field
                    case 3: cartSeq = field
                    default: break
                    }
                }
                return UserCartLinked(user: try user.required("user", 1, in: UserCartLinked.self).identifier(UserID.self),
                                      link: try link.required("link", 2, in: UserCartLinked.self).message(CartLink.self),
                                      cartSeq: try cartSeq?.identifier(Seq.self))
            })
        default:
            self = .cartUnlinked(try value.message { (fields) throws(WireEncodingError) -> UserCartUnlinked in
                var user: WireField?, cart: WireField?, cartSeq: WireField?
                while let field = try fields.next() {
                    switch field.number {
                    case 1: user = field
                    case 2: cart = field
                    case 3: cartSeq = field
                    default: break
                    }
                }
                return UserCartUnlinked(user: try user.required("user", 1, in: UserCartUnlinked.self).identifier(UserID.self),
                                        cart: try cart.required("cart", 2, in: UserCartUnlinked.self).identifier(CartID.self),
                                        cartSeq: try cartSeq?.identifier(Seq.self))
            })
        }
    }
}
