import CartTypes
import CartWire
import Foundation

/// Message shapes for the fuzzer to aim at: every scalar, optionals, nesting, repeated
/// fields, nested lists, sets, dictionaries, an enum with payloads, and recursion. No Date:
/// far from 1970 a Date cannot hold every millisecond, so byte stability would not hold.
struct FuzzLine: Codable, Hashable {
    var item: ItemID
    var quantity: Int32
    var price: Double
    var note: String?

    enum CodingKeys: Int, CodingKey {
        case item = 1, quantity = 2, price = 3, note = 4
    }
}

enum FuzzChange: Codable, Hashable {
    case added(ItemID, Int8)
    case shared(users: Set<UserID>)
    case cleared

    enum CodingKeys: Int, CodingKey {
        case added = 1, shared = 2, cleared = 3
    }

    enum SharedCodingKeys: Int, CodingKey {
        case users = 1
    }
}

struct FuzzTree: Codable, Hashable {
    var label: UInt16
    var children: [FuzzTree]

    enum CodingKeys: Int, CodingKey {
        case label = 1, children = 2
    }
}

struct FuzzEverything: Codable, Hashable {
    var flag: Bool?
    var small: Int8?
    var wide: UInt64?
    var ratio: Float?
    var name: String?
    var blob: [UInt8]?
    var data: Data?
    var id: UUID?
    var lines: [FuzzLine]
    var grid: [[Int16]]
    var tags: Set<String>
    var counts: [String: UInt32]
    var changes: [FuzzChange]
    var tree: FuzzTree?
    var version: Version?

    enum CodingKeys: Int, CodingKey {
        case flag = 1, small, wide, ratio, name, blob, data, id, lines, grid, tags, counts
        case changes, tree, version
    }
}
