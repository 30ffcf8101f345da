import CartTypes
import CartWire

/// Which commands the log entry writes and reads by hand, and the enum framing around them.
///
/// Codable encodes `Command` as a message holding one field, numbered by the case, whose
/// message holds the payload struct as field 1 (`_0`). The hot commands are the ones a
/// shopper's traffic proposes (`cartload carts` issues these): create, add, remove, set
/// quantity, and the link a create records on the owner's partition. Every other case, and
/// every oddly shaped command message, goes through Codable, so both paths accept and reject
/// the same inputs.
enum HotCommandWire {
    /// Bytes reserved up front for a hot envelope, beyond its strings: tags, length prefixes
    /// and every integer at its widest varint (about 85 for `addItem` with a request key).
    /// Only a reservation: a longer entry grows the array.
    static let fixedBytesEstimate = 96

    // MARK: encoding

    static func encode(_ command: Command, field: UInt32, to writer: inout WireFieldWriter) throws(WireEncodingError) {
        switch command {
        case .createCart(let value):
            try writeCase(.createCart, field: field, to: &writer) { (fields) throws(WireEncodingError) in encode(value, to: &fields) }
        case .addItem(let value):
            try writeCase(.addItem, field: field, to: &writer) { (fields) throws(WireEncodingError) in encode(value, to: &fields) }
        case .removeItem(let value):
            try writeCase(.removeItem, field: field, to: &writer) { (fields) throws(WireEncodingError) in encode(value, to: &fields) }
        case .setQuantity(let value):
            try writeCase(.setQuantity, field: field, to: &writer) { (fields) throws(WireEncodingError) in encode(value, to: &fields) }
        case .linkCart(let value):
            try writeCase(.linkCart, field: field, to: &writer) { (fields) throws(WireEncodingError) in encode(value, to: &fields) }
        default:
            try writer.write(field, encodable: command)
        }
    }

    private static func writeCase(_ key: Command.CodingKeys, field: UInt32, to writer: inout WireFieldWriter,
                                  _ payload: (inout WireFieldWriter) throws(WireEncodingError) -> Void) throws(WireEncodingError) {
        try writer.writeMessage(field) { (cases) throws(WireEncodingError) in
            try WireEnumCase.write(UInt32(key.rawValue), to: &cases, payload)
        }
    }

    /// What `logEntryBytes` reserves for `command`'s envelope; 0 (no reservation) for the
    /// commands Codable writes.
    static func encodedBytesEstimate(_ command: Command) -> Int {
        switch command {
        case .createCart(let value): fixedBytesEstimate + value.cart.rawValue.utf8.count + value.owner.rawValue.utf8.count
        case .addItem(let value): fixedBytesEstimate + stringBytes(value.cart, value.actor, value.item)
        case .removeItem(let value): fixedBytesEstimate + stringBytes(value.cart, value.actor, value.item)
        case .setQuantity(let value): fixedBytesEstimate + stringBytes(value.cart, value.actor, value.item)
        case .linkCart(let value): fixedBytesEstimate + value.user.rawValue.utf8.count + value.cart.rawValue.utf8.count
        default: 0
        }
    }

    private static func stringBytes(_ cart: CartID, _ actor: UserID, _ item: ItemID) -> Int {
        cart.rawValue.utf8.count + actor.rawValue.utf8.count + item.rawValue.utf8.count
    }

    // MARK: decoding

    /// Decodes the command message in `field`: by hand when it holds exactly one known case
    /// and that case is hot, otherwise through Codable (which also reports none or several
    /// cases as an error, exactly as before).
    static func decodeCommand(_ field: WireField) throws(WireEncodingError) -> Command {
        if case let (key, payload)? = try field.message({ (cases) throws(WireEncodingError) in try soleCase(&cases) }) {
            switch key {
            case .createCart: return .createCart(try decodePayload(payload, decodeCreateCart))
            case .addItem: return .addItem(try decodePayload(payload, decodeAddItem))
            case .removeItem: return .removeItem(try decodePayload(payload, decodeRemoveItem))
            case .setQuantity: return .setQuantity(try decodePayload(payload, decodeSetQuantity))
            case .linkCart: return .linkCart(try decodePayload(payload, decodeLinkCart))
            default: break
            }
        }
        return try field.decode(Command.self)
    }

    /// The one known case in a command message and its last occurrence, or nil when there
    /// are none or several (see `WireEnumCase.soleCaseIfAny`).
    private static func soleCase(_ cases: inout WireFieldReader) throws(WireEncodingError) -> (Command.CodingKeys, WireField)? {
        let found = try WireEnumCase.soleCaseIfAny(&cases) { Command.CodingKeys(rawValue: Int($0)) != nil }
        return found.flatMap { found in Command.CodingKeys(rawValue: Int(found.number)).map { ($0, found.field) } }
    }

    /// The payload struct inside a case message: the last field 1, a message read by `body`.
    private static func decodePayload<T>(_ payload: WireField,
                                         _ body: (inout WireFieldReader) throws(WireEncodingError) -> T) throws(WireEncodingError) -> T {
        try WireEnumCase.value(of: payload, in: Command.self).message(body)
    }
}
