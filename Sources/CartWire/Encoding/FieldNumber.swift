/// Turns a `CodingKey` into a field number: its `intValue` (`enum CodingKeys: Int,
/// CodingKey { case id = 1 }`), or for the keys Swift synthesizes for unlabeled enum
/// associated values (`_0`, `_1`, …) that position plus one.
enum FieldNumber {
    @inline(__always)
    static func of<Key: CodingKey>(_ key: Key) throws(WireEncodingError) -> UInt32 {
        if let number = key.intValue {
            guard number >= 1 && number <= Int(FieldTag.fieldNumberMax) else {
                throw WireEncodingError(.fieldNumberOutOfRange,
                    "\(String(reflecting: Key.self)).\(key.stringValue) has field number \(number); field numbers are 1...\(FieldTag.fieldNumberMax) (did a case miss its `= 1`?)")
            }
            return UInt32(number)
        }
        if let position = positionalIndex(key.stringValue) {
            return position + 1
        }
        throw WireEncodingError(.keyWithoutFieldNumber,
            "\(String(reflecting: Key.self)).\(key.stringValue) has no field number: declare `enum CodingKeys: Int, CodingKey` with explicit numbers")
    }

    /// The key for field `number` in `Key`'s key space, if it has one.
    static func key<Key: CodingKey>(_ number: UInt32, as: Key.Type) -> Key? {
        Key(intValue: Int(number)) ?? Key(stringValue: "_\(number - 1)")
    }

    /// `n` for a key spelled `_n` (digits only, no leading zeros except `_0`).
    private static func positionalIndex(_ name: String) -> UInt32? {
        let utf8 = name.utf8
        guard utf8.count >= 2, utf8.count <= 6, utf8.first == UInt8(ascii: "_") else { return nil }
        var value: UInt32 = 0
        for (offset, byte) in utf8.dropFirst().enumerated() {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            if offset == 0 && byte == UInt8(ascii: "0") && utf8.count > 2 { return nil }
            value = value * 10 + UInt32(byte - UInt8(ascii: "0"))
        }
        return value
    }
}
