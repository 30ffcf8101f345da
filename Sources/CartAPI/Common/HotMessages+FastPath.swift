import CartDomain
import CartTypes
import CartWire

// Hand-written wire fields for the messages of the hottest client call (`Cart.addItem`, its
// reply, and their forwarding between nodes). Same bytes as their Codable encoding; a test
// compares both paths.

extension AddItemRequest: WireMessage {
    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        writer.write(1, cart)
        writer.write(2, item)
        writer.write(3, quantity)
        if let expectedVersion { writer.write(4, expectedVersion) }
        try writer.write(5, message: request)
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        var cart: CartID?, item: ItemID?, quantity: Int64?, expectedVersion: Version?, request: RequestKey?
        while let field = try reader.next() {
            switch field.number {
            case 1: cart = try field.identifier(CartID.self)
            case 2: item = try field.identifier(ItemID.self)
            case 3: quantity = try field.int64()
            case 4: expectedVersion = try field.identifier(Version.self)
            case 5: request = try field.message(RequestKey.self)
            default: break
            }
        }
        self.init(cart: try WireFieldReader.required(cart, "cart", 1, in: Self.self),
                  item: try WireFieldReader.required(item, "item", 2, in: Self.self),
                  quantity: try WireFieldReader.required(quantity, "quantity", 3, in: Self.self),
                  expectedVersion: expectedVersion,
                  request: try WireFieldReader.required(request, "request", 5, in: Self.self))
    }
}

extension CartWriteReply: WireMessage {
    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        writer.write(1, cart)
        writer.write(2, version)
        writer.write(3, seq)
        if let leaderHint {
            try writer.writeMessage(4) { (fields) throws(WireEncodingError) in
                fields.write(1, leaderHint.nodeID)
                fields.write(2, leaderHint.address)
            }
        }
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        var cart: CartID?, version: Version?, seq: Seq?, hint: LeaderHint?
        while let field = try reader.next() {
            switch field.number {
            case 1: cart = try field.identifier(CartID.self)
            case 2: version = try field.identifier(Version.self)
            case 3: seq = try field.identifier(Seq.self)
            case 4: hint = try field.message { (fields) throws(WireEncodingError) in try HotWire.decodeLeaderHint(&fields) }
            default: break
            }
        }
        self.init(cart: try WireFieldReader.required(cart, "cart", 1, in: Self.self),
                  version: try WireFieldReader.required(version, "version", 2, in: Self.self),
                  seq: try WireFieldReader.required(seq, "seq", 3, in: Self.self), leaderHint: hint)
    }
}

extension ForwardedCall: WireMessage {
    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        writer.write(1, method.rawValue)
        if let actor { writer.write(2, actor) }
        writer.write(3, payload)
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        var method: MethodID?, actor: UserID?, payload: [UInt8]?
        while let field = try reader.next() {
            switch field.number {
            case 1: method = MethodID(try field.uint16())
            case 2: actor = try field.identifier(UserID.self)
            case 3: payload = try field.bytes()
            default: break
            }
        }
        self.init(method: try WireFieldReader.required(method, "method", 1, in: Self.self), actor: actor,
                  payload: try WireFieldReader.required(payload, "payload", 3, in: Self.self))
    }
}

extension ForwardedReply: WireMessage {
    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        writer.write(1, payload)
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        var payload: [UInt8]?
        while let field = try reader.next() {
            if field.number == 1 { payload = try field.bytes() }
        }
        self.init(payload: try WireFieldReader.required(payload, "payload", 1, in: Self.self))
    }
}

enum HotWire {
    static func decodeLeaderHint(_ reader: inout WireFieldReader) throws(WireEncodingError) -> LeaderHint {
        var node: NodeID?, address: String?
        while let field = try reader.next() {
            switch field.number {
            case 1: node = try field.identifier(NodeID.self)
            case 2: address = try field.string()
            default: break
            }
        }
        return LeaderHint(nodeID: try WireFieldReader.required(node, "nodeID", 1, in: LeaderHint.self),
                          address: try WireFieldReader.required(address, "address", 2, in: LeaderHint.self))
    }
}
