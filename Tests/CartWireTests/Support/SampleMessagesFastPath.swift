import CartTypes
import CartWire

/// Hand-written encodings of the sample messages; the vectors and round-trip tests check
/// they give the same bytes as the generic Codable path.
extension CartLine: WireMessage {
    func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        writer.write(1, item)
        writer.write(2, quantity)
        writer.write(3, priceCents)
        if let note { writer.write(4, note) }
    }

    init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        var item: ItemID?, quantity: Int32?, priceCents: Int64?, note: String?
        while let field = try reader.next() {
            switch field.number {
            case 1: item = try field.identifier(ItemID.self)
            case 2: quantity = try field.int32()
            case 3: priceCents = try field.int64()
            case 4: note = try field.string()
            default: break
            }
        }
        self.init(item: try WireFieldReader.required(item, "item", 1, in: Self.self),
                  quantity: try WireFieldReader.required(quantity, "quantity", 2, in: Self.self),
                  priceCents: try WireFieldReader.required(priceCents, "priceCents", 3, in: Self.self),
                  note: note)
    }
}

extension CartSnapshot: WireMessage {
    func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        writer.write(1, cart)
        writer.write(2, owner)
        for line in lines { try writer.write(3, message: line) }
        try writer.write(4, encodable: sharedWith)
        writer.write(5, status.rawValue)
        writer.write(6, version)
        try writer.write(7, createdAt)
        try writer.write(8, updatedAt)
    }

    init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        var cart: CartID?, owner: UserID?, lines: [CartLine] = [], sharedWith = Set<UserID>()
        var status: CartStatus?, version: Version?, createdAt: Date?, updatedAt: Date?
        while let field = try reader.next() {
            switch field.number {
            case 1: cart = try field.identifier(CartID.self)
            case 2: owner = try field.identifier(UserID.self)
            case 3: lines.append(try field.message(CartLine.self))
            case 4: sharedWith.insert(try field.identifier(UserID.self))
            case 5: status = try field.decode(CartStatus.self)
            case 6: version = try field.identifier(Version.self)
            case 7: createdAt = try field.date()
            case 8: updatedAt = try field.date()
            default: break
            }
        }
        self.init(cart: try WireFieldReader.required(cart, "cart", 1, in: Self.self),
                  owner: try WireFieldReader.required(owner, "owner", 2, in: Self.self),
                  lines: lines, sharedWith: sharedWith,
                  status: try WireFieldReader.required(status, "status", 5, in: Self.self),
                  version: try WireFieldReader.required(version, "version", 6, in: Self.self),
                  createdAt: try WireFieldReader.required(createdAt, "createdAt", 7, in: Self.self),
                  updatedAt: try WireFieldReader.required(updatedAt, "updatedAt", 8, in: Self.self))
    }
}

import Foundation
