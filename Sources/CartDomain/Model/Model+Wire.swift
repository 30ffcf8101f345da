import CartTypes
import CartWire

// Hand-written wire fields for the records a partition stores (carts, items, users,
// reservations), the bulk of every snapshot. The bytes are the Codable encoding's: fields in
// `CodingKeys` order, every non-optional field written (identifiers, `Money` and `Timestamp`
// as their bare raw value, raw-valued enums as their raw value, byte strings even when empty),
// nil optionals and empty repeated fields left out. Decoding follows Codable too (see
// `WireFieldsSupport.swift`). `SnapshotWireTests` compares both paths.

extension Cart: WireMessage {
    public var encodedBytesEstimate: Int {
        64 + id.rawValue.utf8.count + owner.rawValue.utf8.count
            + sharedUsers.reduce(0) { $0 + 2 + $1.rawValue.utf8.count }
            + lines.reduce(0) { $0 + 32 + $1.item.rawValue.utf8.count }
            + (checkout.map { 48 + $0.id.rawValue.utf8.count + $0.lines.reduce(0) { $0 + 16 + $1.item.rawValue.utf8.count } } ?? 0)
    }

    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        writer.write(1, id)
        writer.write(2, owner)
        for user in sharedUsers { writer.write(3, user) }
        for line in lines { try writer.write(4, message: line) }
        writer.write(5, status.rawValue)
        writer.write(6, version)
        writer.write(7, seq)
        writer.write(8, createdAt.millisecondsSinceEpoch)
        writer.write(9, updatedAt.millisecondsSinceEpoch)
        if let checkout { try writer.write(10, message: checkout) }
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        var id: WireField?, owner: WireField?, status: WireField?, version: WireField?, seq: WireField?
        var createdAt: WireField?, updatedAt: WireField?, checkout: WireField?
        var sharedUsers: [UserID] = []
        var lines: [CartLine] = []
        while let field = try reader.next() {
            switch field.number {
            case 1: id = field
            case 2: owner = field
            case 3: sharedUsers.append(try field.identifier(UserID.self))
            case 4: lines.append(try field.message(CartLine.self))
            case 5: status = field
            case 6: version = field
            case 7: seq = field
            case 8: createdAt = field
            case 9: updatedAt = field
            case 10: checkout = field
            default: break
            }
        }
        self.id = try id.required("id", 1, in: Self.self).identifier(CartID.self)
        self.owner = try owner.required("owner", 2, in: Self.self).identifier(UserID.self)
        self.sharedUsers = sharedUsers
        self.lines = lines
        self.status = try wireRawEnum(status.required("status", 5, in: Self.self), CartStatus.self)
        self.version = try version.required("version", 6, in: Self.self).identifier(Version.self)
        self.seq = try seq.required("seq", 7, in: Self.self).identifier(Seq.self)
        self.createdAt = Timestamp(millisecondsSinceEpoch: try createdAt.required("createdAt", 8, in: Self.self).int64())
        self.updatedAt = Timestamp(millisecondsSinceEpoch: try updatedAt.required("updatedAt", 9, in: Self.self).int64())
        self.checkout = try checkout?.message(CheckoutRecord.self)
    }
}

extension CartLine: WireMessage {
    public var encodedBytesEstimate: Int { 32 + item.rawValue.utf8.count }

    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        writer.write(1, item)
        writer.write(2, quantity)
        writer.write(3, unitPrice.minorUnits)
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        var item: WireField?, quantity: WireField?, unitPrice: WireField?
        while let field = try reader.next() {
            switch field.number {
            case 1: item = field
            case 2: quantity = field
            case 3: unitPrice = field
            default: break
            }
        }
        self.init(item: try item.required("item", 1, in: Self.self).identifier(ItemID.self),
                  quantity: try quantity.required("quantity", 2, in: Self.self).int64(),
                  unitPrice: Money(minorUnits: try unitPrice.required("unitPrice", 3, in: Self.self).int64()))
    }
}

extension CheckoutRecord: WireMessage {
    public var encodedBytesEstimate: Int { 48 + id.rawValue.utf8.count + lines.reduce(0) { $0 + 16 + $1.item.rawValue.utf8.count } }

    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        writer.write(1, id)
        for line in lines { try writer.write(2, message: line) }
        writer.write(3, total.minorUnits)
        writer.write(4, outcome.rawValue)
        writer.write(5, settled)
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        var id: WireField?, total: WireField?, outcome: WireField?, settled: WireField?
        var lines: [StockLine] = []
        while let field = try reader.next() {
            switch field.number {
            case 1: id = field
            case 2: lines.append(try field.message(StockLine.self))
            case 3: total = field
            case 4: outcome = field
            case 5: settled = field
            default: break
            }
        }
        self.init(id: try id.required("id", 1, in: Self.self).identifier(CheckoutID.self),
                  lines: lines,
                  total: Money(minorUnits: try total.required("total", 3, in: Self.self).int64()),
                  outcome: try wireRawEnum(outcome.required("outcome", 4, in: Self.self), Outcome.self),
                  settled: try settled.required("settled", 5, in: Self.self).bool())
    }
}

extension StockLine: WireMessage {
    public var encodedBytesEstimate: Int { 16 + item.rawValue.utf8.count }

    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        writer.write(1, item)
        writer.write(2, quantity)
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        var item: WireField?, quantity: WireField?
        while let field = try reader.next() {
            switch field.number {
            case 1: item = field
            case 2: quantity = field
            default: break
            }
        }
        self.init(item: try item.required("item", 1, in: Self.self).identifier(ItemID.self),
                  quantity: try quantity.required("quantity", 2, in: Self.self).int64())
    }
}

extension Item: WireMessage {
    public var encodedBytesEstimate: Int { 48 + id.rawValue.utf8.count + name.utf8.count }

    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        writer.write(1, id)
        writer.write(2, name)
        writer.write(3, price.minorUnits)
        writer.write(4, stock)
        writer.write(5, reserved)
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        var id: WireField?, name: WireField?, price: WireField?, stock: WireField?, reserved: WireField?
        while let field = try reader.next() {
            switch field.number {
            case 1: id = field
            case 2: name = field
            case 3: price = field
            case 4: stock = field
            case 5: reserved = field
            default: break
            }
        }
        self.init(id: try id.required("id", 1, in: Self.self).identifier(ItemID.self),
                  name: try name.required("name", 2, in: Self.self).string(),
                  price: Money(minorUnits: try price.required("price", 3, in: Self.self).int64()),
                  stock: try stock.required("stock", 4, in: Self.self).int64(),
                  reserved: try reserved.required("reserved", 5, in: Self.self).int64())
    }
}

extension User: WireMessage {
    public var encodedBytesEstimate: Int {
        32 + id.rawValue.utf8.count + passwordHash.count + carts.reduce(0) { $0 + 8 + $1.cart.rawValue.utf8.count }
            + linkMarks.reduce(0) { $0 + 18 + $1.cart.rawValue.utf8.count }
    }

    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        writer.write(1, id)
        writer.write(2, passwordHash)
        writer.write(3, registeredAt.millisecondsSinceEpoch)
        for link in carts { try writer.write(4, message: link) }
        for mark in linkMarks { try writer.write(5, message: mark) }
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        var id: WireField?, passwordHash: WireField?, registeredAt: WireField?
        var carts: [CartLink] = []
        var linkMarks: [CartLinkMark] = []
        while let field = try reader.next() {
            switch field.number {
            case 1: id = field
            case 2: passwordHash = field
            case 3: registeredAt = field
            case 4: carts.append(try field.message(CartLink.self))
            case 5: linkMarks.append(try field.message(CartLinkMark.self))
            default: break
            }
        }
        self.init(id: try id.required("id", 1, in: Self.self).identifier(UserID.self),
                  passwordHash: try passwordHash.required("passwordHash", 2, in: Self.self).bytes(),
                  registeredAt: Timestamp(millisecondsSinceEpoch: try registeredAt.required("registeredAt", 3, in: Self.self).int64()),
                  carts: carts, linkMarks: linkMarks)
    }
}

extension CartLinkMark: WireMessage {
    public var encodedBytesEstimate: Int { 16 + cart.rawValue.utf8.count }

    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        writer.write(1, cart)
        writer.write(2, seq)
        writer.write(3, linked)
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        var cart: WireField?, seq: WireField?, linked: WireField?
        while let field = try reader.next() {
            switch field.number {
            case 1: cart = field
            case 2: seq = field
            case 3: linked = field
            default: break
            }
        }
        self.init(cart: try cart.required("cart", 1, in: Self.self).identifier(CartID.self),
                  seq: try seq.required("seq", 2, in: Self.self).identifier(Seq.self),
                  linked: try linked.required("linked", 3, in: Self.self).bool())
    }
}

extension CartLink: WireMessage {
    public var encodedBytesEstimate: Int { 8 + cart.rawValue.utf8.count }

    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        writer.write(1, cart)
        writer.write(2, role.rawValue)
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        var cart: WireField?, role: WireField?
        while let field = try reader.next() {
            switch field.number {
            case 1: cart = field
            case 2: role = field
            default: break
            }
        }
        self.init(cart: try cart.required("cart", 1, in: Self.self).identifier(CartID.self),
                  role: try wireRawEnum(role.required("role", 2, in: Self.self), Role.self))
    }
}

extension Reservation: WireMessage {
    public var encodedBytesEstimate: Int { 16 + checkout.rawValue.utf8.count + lines.reduce(0) { $0 + 16 + $1.item.rawValue.utf8.count } }

    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        writer.write(1, checkout)
        for line in lines { try writer.write(2, message: line) }
        writer.write(3, status.rawValue)
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        var checkout: WireField?, status: WireField?
        var lines: [StockLine] = []
        while let field = try reader.next() {
            switch field.number {
            case 1: checkout = field
            case 2: lines.append(try field.message(StockLine.self))
            case 3: status = field
            default: break
            }
        }
        self.init(checkout: try checkout.required("checkout", 1, in: Self.self).identifier(CheckoutID.self),
                  lines: lines,
                  status: try wireRawEnum(status.required("status", 3, in: Self.self), Status.self))
    }
}
