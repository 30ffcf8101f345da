import CartTypes
import Foundation

/// Messages shaped like the ones the cart service will send, used by the round-trip tests,
/// the vectors and the benchmark.
enum CartStatus: UInt8, Codable, Hashable, CaseIterable {
    case active = 1, checkingOut = 2, checkedOut = 3
}

struct CartLine: Codable, Hashable {
    var item: ItemID
    var quantity: Int32
    var priceCents: Int64
    var note: String?

    enum CodingKeys: Int, CodingKey {
        case item = 1, quantity = 2, priceCents = 3, note = 4
    }
}

struct CartSnapshot: Codable, Hashable {
    var cart: CartID
    var owner: UserID
    var lines: [CartLine]
    var sharedWith: Set<UserID>
    var status: CartStatus
    var version: Version
    var createdAt: Date
    var updatedAt: Date

    enum CodingKeys: Int, CodingKey {
        case cart = 1, owner = 2, lines = 3, sharedWith = 4, status = 5, version = 6
        case createdAt = 7, updatedAt = 8
    }
}

enum CartChange: Codable, Hashable {
    case itemAdded(ItemID, Int32)
    case itemRemoved(ItemID)
    case shared(users: [UserID])
    case checkedOut

    enum CodingKeys: Int, CodingKey {
        case itemAdded = 1, itemRemoved = 2, shared = 3, checkedOut = 4
    }

    enum SharedCodingKeys: Int, CodingKey {
        case users = 1
    }
}

/// Every type the format supports, in one message.
struct Everything: Codable, Hashable {
    var bool: Bool
    var int: Int
    var int8: Int8
    var int16: Int16
    var int32: Int32
    var int64: Int64
    var uint: UInt
    var uint8: UInt8
    var uint16: UInt16
    var uint32: UInt32
    var uint64: UInt64
    var float: Float
    var double: Double
    var string: String
    var bytes: [UInt8]
    var data: Data
    var date: Date
    var uuid: UUID
    var optional: Int64?
    var optionalMessage: CartLine?
    var ints: [Int]
    var strings: [String]
    var nestedLists: [[UInt16]]
    var blobs: [[UInt8]]
    var set: Set<Int32>
    var dictionary: [String: Int]
    var messageDictionary: [UInt32: CartLine]
    var status: CartStatus
    var changes: [CartChange]
    var identifiers: [NodeID]

    enum CodingKeys: Int, CodingKey {
        case bool = 1, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64
        case float, double, string, bytes, data, date, uuid, optional, optionalMessage
        case ints, strings, nestedLists, blobs, set, dictionary, messageDictionary, status
        case changes, identifiers
    }
}
