import CartTypes
import Foundation

/// Random values of the sample messages, biased towards edges (0, min, max, empty, long).
extension SeededRandom {
    mutating func integer<I: FixedWidthInteger>(_ type: I.Type = I.self) -> I {
        switch Int.random(in: 0..<6, using: &self) {
        case 0: return 0
        case 1: return I.min
        case 2: return I.max
        case 3: return I(truncatingIfNeeded: Int.random(in: -300...300, using: &self))
        default: return I(truncatingIfNeeded: next())
        }
    }

    mutating func count(max: Int = 6) -> Int { Int.random(in: 0...max, using: &self) }

    mutating func string() -> String {
        let alphabet: [String] = ["a", "z", "0", " ", "é", "日", "🛒", "\u{0}", "\n", "\""]
        return (0..<count(max: 12)).map { _ in alphabet.randomElement(using: &self)! }.joined()
    }

    mutating func bytes() -> [UInt8] { (0..<count(max: 40)).map { _ in integer(UInt8.self) } }

    /// Whole milliseconds, which is what the wire keeps.
    mutating func date() -> Date {
        Date(timeIntervalSince1970: Double(Int64.random(in: -5_000_000_000_000...5_000_000_000_000, using: &self)) / 1000)
    }

    mutating func uuid() -> UUID {
        var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &uuid) { raw in
            for index in raw.indices { raw[index] = integer(UInt8.self) }
        }
        return UUID(uuid: uuid)
    }

    /// Any Double bit pattern except NaN (NaN != NaN would fail equality, not the codec).
    mutating func double() -> Double {
        let value = Double(bitPattern: next())
        return value.isNaN ? -0.0 : value
    }

    mutating func float() -> Float {
        let value = Float(bitPattern: integer(UInt32.self))
        return value.isNaN ? .infinity : value
    }

    mutating func line() -> CartLine {
        CartLine(item: ItemID(string()), quantity: integer(), priceCents: integer(),
                 note: Bool.random(using: &self) ? string() : nil)
    }

    mutating func change() -> CartChange {
        switch Int.random(in: 0..<4, using: &self) {
        case 0: return .itemAdded(ItemID(string()), integer())
        case 1: return .itemRemoved(ItemID(string()))
        case 2: return .shared(users: (0..<count()).map { _ in UserID(string()) })
        default: return .checkedOut
        }
    }

    mutating func snapshot() -> CartSnapshot {
        CartSnapshot(cart: CartID(string()), owner: UserID(string()),
                     lines: (0..<count()).map { _ in line() },
                     sharedWith: Set((0..<count()).map { _ in UserID(string()) }),
                     status: CartStatus.allCases.randomElement(using: &self)!,
                     version: Version(integer()), createdAt: date(), updatedAt: date())
    }

    mutating func everything() -> Everything {
        Everything(
            bool: Bool.random(using: &self), int: integer(), int8: integer(), int16: integer(),
            int32: integer(), int64: integer(), uint: integer(), uint8: integer(), uint16: integer(),
            uint32: integer(), uint64: integer(), float: float(), double: double(), string: string(),
            bytes: bytes(), data: Data(bytes()), date: date(), uuid: uuid(),
            optional: Bool.random(using: &self) ? integer() : nil,
            optionalMessage: Bool.random(using: &self) ? line() : nil,
            ints: (0..<count()).map { _ in integer() },
            strings: (0..<count()).map { _ in string() },
            nestedLists: (0..<count()).map { _ in (0..<count()).map { _ in integer() } },
            blobs: (0..<count()).map { _ in bytes() },
            set: Set((0..<count()).map { _ in integer() }),
            dictionary: Dictionary((0..<count()).map { _ in (string(), integer()) }, uniquingKeysWith: { a, _ in a }),
            messageDictionary: Dictionary((0..<count()).map { _ in (integer(), line()) }, uniquingKeysWith: { a, _ in a }),
            status: CartStatus.allCases.randomElement(using: &self)!,
            changes: (0..<count()).map { _ in change() },
            identifiers: (0..<count()).map { _ in NodeID(integer()) })
    }
}
