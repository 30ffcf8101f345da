import CartTypes
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
