import CartTypes
import CartWire
import Foundation

/// The representative event: a cart snapshot with 10 lines and 3 shared users, as the cart
/// service will put in its log and push to watchers.
struct BenchCartLine: Codable, Hashable {
    var item: ItemID
    var quantity: Int32
    var priceCents: Int64
    var note: String?

    enum CodingKeys: Int, CodingKey {
        case item = 1, quantity = 2, priceCents = 3, note = 4
    }
}

enum BenchCartStatus: UInt8, Codable, Hashable {
    case active = 1, checkingOut = 2, checkedOut = 3
}

struct BenchCartEvent: Codable, Hashable {
    var cart: CartID
    var seq: Seq
    var version: Version
    var actor: UserID
    var owner: UserID
    var lines: [BenchCartLine]
    var sharedWith: [UserID]
    var status: BenchCartStatus
    var updatedAtMs: Int64

    enum CodingKeys: Int, CodingKey {
        case cart = 1, seq = 2, version = 3, actor = 4, owner = 5, lines = 6, sharedWith = 7
        case status = 8, updatedAtMs = 9
    }

    static let sample = BenchCartEvent(
        cart: "0b6c1e2a-5a3e-4f5e-9a55-0d1f2e3c4b5a", seq: 42, version: 42, actor: "alice",
        owner: "alice",
        lines: (1...10).map { BenchCartLine(item: ItemID("sku-\(1000 + $0)"), quantity: Int32($0),
                                            priceCents: Int64(199 * $0), note: $0 == 3 ? "gift wrap" : nil) },
        sharedWith: ["bob", "carol", "dave"], status: .active, updatedAtMs: 1_764_000_000_123)
}

/// A flat message (no nested messages, no collections): the allocation target.
struct BenchCredit: Codable, Hashable {
    var stream: UInt32
    var count: UInt32
    var reason: String

    enum CodingKeys: Int, CodingKey {
        case stream = 1, count = 2, reason = 3
    }
}

// The hand-written fast path for the hot messages; same bytes as the Codable path (the
// CartWire tests prove the equivalence for their own sample messages).
extension BenchCartLine: WireMessage {
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

extension BenchCartEvent: WireMessage {
    func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        writer.write(1, cart)
        writer.write(2, seq)
        writer.write(3, version)
        writer.write(4, actor)
        writer.write(5, owner)
        for line in lines { try writer.write(6, message: line) }
        for user in sharedWith { writer.write(7, user) }
        writer.write(8, status.rawValue)
        writer.write(9, updatedAtMs)
    }

    init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        var cart: CartID?, seq: Seq?, version: Version?, actor: UserID?, owner: UserID?
        var lines: [BenchCartLine] = [], sharedWith: [UserID] = [], status: BenchCartStatus?, updatedAtMs: Int64?
        while let field = try reader.next() {
            switch field.number {
            case 1: cart = try field.identifier(CartID.self)
            case 2: seq = try field.identifier(Seq.self)
            case 3: version = try field.identifier(Version.self)
            case 4: actor = try field.identifier(UserID.self)
            case 5: owner = try field.identifier(UserID.self)
            case 6: lines.append(try field.message(BenchCartLine.self))
            case 7: sharedWith.append(try field.identifier(UserID.self))
            case 8:
                guard let value = BenchCartStatus(rawValue: try field.uint8()) else {
                    throw WireEncodingError(.invalidValue, "BenchCartEvent.status: unknown case")
                }
                status = value
            case 9: updatedAtMs = try field.int64()
            default: break
            }
        }
        self.init(cart: try WireFieldReader.required(cart, "cart", 1, in: Self.self),
                  seq: try WireFieldReader.required(seq, "seq", 2, in: Self.self),
                  version: try WireFieldReader.required(version, "version", 3, in: Self.self),
                  actor: try WireFieldReader.required(actor, "actor", 4, in: Self.self),
                  owner: try WireFieldReader.required(owner, "owner", 5, in: Self.self),
                  lines: lines, sharedWith: sharedWith,
                  status: try WireFieldReader.required(status, "status", 8, in: Self.self),
                  updatedAtMs: try WireFieldReader.required(updatedAtMs, "updatedAtMs", 9, in: Self.self))
    }
}

extension BenchCredit: WireMessage {
    func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        writer.write(1, stream)
        writer.write(2, count)
        writer.write(3, reason)
    }

    init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        var stream: UInt32?, count: UInt32?, reason: String?
        while let field = try reader.next() {
            switch field.number {
            case 1: stream = try field.uint32()
            case 2: count = try field.uint32()
            case 3: reason = try field.string()
            default: break
            }
        }
        self.init(stream: try WireFieldReader.required(stream, "stream", 1, in: Self.self),
                  count: try WireFieldReader.required(count, "count", 2, in: Self.self),
                  reason: try WireFieldReader.required(reason, "reason", 3, in: Self.self))
    }
}
