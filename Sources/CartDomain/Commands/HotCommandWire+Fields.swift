import CartTypes
import CartWire

// The fields of each hot command, in `CodingKeys` order, as Codable writes them: every
// non-optional field (identifiers and `Money` as their bare raw value), nil optionals left out.
// Decoding keeps the last occurrence of each field and reads only that one, so a repeated
// field takes its last value and unknown fields are skipped, as through Codable.

extension HotCommandWire {
    // MARK: encoding

    static func encode(_ command: CreateCart, to writer: inout WireFieldWriter) {
        writer.write(1, command.cart)
        writer.write(2, command.owner)
    }

    static func encode(_ command: AddItem, to writer: inout WireFieldWriter) {
        writer.write(1, command.cart)
        writer.write(2, command.actor)
        writer.write(3, command.item)
        writer.write(4, command.quantity)
        writer.write(5, command.unitPrice.minorUnits)
        if let expectedVersion = command.expectedVersion { writer.write(6, expectedVersion) }
    }

    static func encode(_ command: RemoveItem, to writer: inout WireFieldWriter) {
        writer.write(1, command.cart)
        writer.write(2, command.actor)
        writer.write(3, command.item)
        if let expectedVersion = command.expectedVersion { writer.write(4, expectedVersion) }
    }

    static func encode(_ command: SetQuantity, to writer: inout WireFieldWriter) {
        writer.write(1, command.cart)
        writer.write(2, command.actor)
        writer.write(3, command.item)
        writer.write(4, command.quantity)
        if let expectedVersion = command.expectedVersion { writer.write(5, expectedVersion) }
    }

    static func encode(_ command: LinkCart, to writer: inout WireFieldWriter) {
        writer.write(1, command.user)
        writer.write(2, command.cart)
        writer.write(3, command.role.rawValue)
        if let cartSeq = command.cartSeq { writer.write(4, cartSeq) }
    }

    // MARK: decoding

    static func decodeCreateCart(_ reader: inout WireFieldReader) throws(WireEncodingError) -> CreateCart {
        var cart: WireField?, owner: WireField?
        while let field = try reader.next() {
            switch field.number {
            case 1: cart = field
            case 2: owner = field
            default: break
            }
        }
        return CreateCart(cart: try cart.required("cart", 1, in: CreateCart.self).identifier(CartID.self),
                          owner: try owner.required("owner", 2, in: CreateCart.self).identifier(UserID.self))
    }

    static func decodeAddItem(_ reader: inout WireFieldReader) throws(WireEncodingError) -> AddItem {
        var cart: WireField?, actor: WireField?, item: WireField?
        var quantity: WireField?, unitPrice: WireField?, expectedVersion: WireField?
        while let field = try reader.next() {
            switch field.number {
            case 1: cart = field
            case 2: actor = field
            case 3: item = field
            case 4: quantity = field
            case 5: unitPrice = field
            case 6: expectedVersion = field
            default: break
            }
        }
        let type = AddItem.self
        return AddItem(cart: try cart.required("cart", 1, in: type).identifier(CartID.self),
                       actor: try actor.required("actor", 2, in: type).identifier(UserID.self),
                       item: try item.required("item", 3, in: type).identifier(ItemID.self),
                       quantity: try quantity.required("quantity", 4, in: type).int64(),
                       unitPrice: Money(minorUnits: try unitPrice.required("unitPrice", 5, in: type).int64()),
                       expectedVersion: try expectedVersion?.identifier(Version.self))
    }

    static func decodeRemoveItem(_ reader: inout WireFieldReader) throws(WireEncodingError) -> RemoveItem {
        var cart: WireField?, actor: WireField?, item: WireField?, expectedVersion: WireField?
        while let field = try reader.next() {
            switch field.number {
            case 1: cart = field
            case 2: actor = field
            case 3: item = field
            case 4: expectedVersion = field
            default: break
            }
        }
        let type = RemoveItem.self
        return RemoveItem(cart: try cart.required("cart", 1, in: type).identifier(CartID.self),
                          actor: try actor.required("actor", 2, in: type).identifier(UserID.self),
                          item: try item.required("item", 3, in: type).identifier(ItemID.self),
                          expectedVersion: try expectedVersion?.identifier(Version.self))
    }

    static func decodeSetQuantity(_ reader: inout WireFieldReader) throws(WireEncodingError) -> SetQuantity {
        var cart: WireField?, actor: WireField?, item: WireField?, quantity: WireField?, expectedVersion: WireField?
        while let field = try reader.next() {
            switch field.number {
            case 1: cart = field
            case 2: actor = field
            case 3: item = field
            case 4: quantity = field
            case 5: expectedVersion = field
            default: break
            }
        }
        let type = SetQuantity.self
        return SetQuantity(cart: try cart.required("cart", 1, in: type).identifier(CartID.self),
                           actor: try actor.required("actor", 2, in: type).identifier(UserID.self),
                           item: try item.required("item", 3, in: type).identifier(ItemID.self),
                           quantity: try quantity.required("quantity", 4, in: type).int64(),
                           expectedVersion: try expectedVersion?.identifier(Version.self))
    }

    static func decodeLinkCart(_ reader: inout WireFieldReader) throws(WireEncodingError) -> LinkCart {
        var user: WireField?, cart: WireField?, role: WireField?, cartSeq: WireField?
        while let field = try reader.next() {
            switch field.number {
            case 1: user = field
            case 2: cart = field
            case 3: role = field
            case 4: cartSeq = field
            default: break
            }
        }
        let type = LinkCart.self
        return LinkCart(user: try user.required("user", 1, in: type).identifier(UserID.self),
                        cart: try cart.required("cart", 2, in: type).identifier(CartID.self),
                        role: try decodeRole(role.required("role", 3, in: type)),
                        cartSeq: try cartSeq?.identifier(Seq.self))
    }

    private static func decodeRole(_ field: WireField) throws(WireEncodingError) -> CartLink.Role {
        let raw = try field.uint8()
        guard let role = CartLink.Role(rawValue: raw) else {
            throw WireEncodingError(.invalidValue, "LinkCart.role: \(raw) names no CartLink.Role")
        }
        return role
    }
}
