#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where the value being encoded sits, which decides how each kind of container is written.
enum ValuePosition: UInt8 {
    /// The top-level value: a message writes its body bare; anything else is field 1.
    case root
    /// A field of a message: a message is a length-delimited field, a sequence is a
    /// repeated field, a scalar is a single field.
    case field
    /// One element of a repeated field: like `.field`, except that a sequence cannot repeat
    /// again, so it becomes a nested message whose field 1 is the repeated field.
    case element
}

/// The `Encoder` handed to each value's `encode(to:)`. Three words, so that passing it as
/// `any Encoder` needs no heap box.
struct WireEncoderImpl: Encoder {
    let writer: WireWriter
    let field: UInt32
    let level: Int32
    let position: ValuePosition

    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if position != .root { writer.openMessage(field: field, ownerLevel: Int(level)) }
        return KeyedEncodingContainer(WireKeyedEncodingContainer<Key>(writer: writer, level: level + 1))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        switch position {
        case .root:
            return WireUnkeyedEncodingContainer(writer: writer, field: 1, level: level + 1)
        case .field:
            return WireUnkeyedEncodingContainer(writer: writer, field: field, level: level)
        case .element:
            writer.openMessage(field: field, ownerLevel: Int(level))
            return WireUnkeyedEncodingContainer(writer: writer, field: 1, level: level + 1)
        }
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        self
    }

    /// The repeated field (field number and container level) a set or dictionary at this
    /// position writes its elements into.
    func repeatedTarget() -> (field: UInt32, level: Int32) {
        switch position {
        case .root:
            return (1, level + 1)
        case .field:
            return (field, level)
        case .element:
            writer.openMessage(field: field, ownerLevel: Int(level))
            return (1, level + 1)
        }
    }
}

extension WireWriter {
    /// Writes `value` as field `field` of the container at `level`: the one place every
    /// generic value goes through, so the fast paths for bytes, dates, UUIDs, sets and
    /// dictionaries apply at any depth and in both directions.
    @inline(__always)
    func encodeValue<T: Encodable>(_ value: T, field: UInt32, level: Int32, position: ValuePosition) throws {
        let scalarField = position == .root ? 1 : field
        // Scalars first: identifiers and raw-value enums reach here with their raw value, and
        // these checks are compile-time constants once specialized, unlike the protocol cast
        // below.
        if T.self == String.self {
            closeMessages(ownedAtOrBelow: Int(level))
            writeStringField(scalarField, value as! String)
        } else if T.self == UInt64.self {
            closeMessages(ownedAtOrBelow: Int(level))
            writeVarintField(scalarField, value as! UInt64)
        } else if T.self == [UInt8].self {
            closeMessages(ownedAtOrBelow: Int(level))
            (value as! [UInt8]).withUnsafeBytes { writeBytesField(scalarField, $0) }
        } else if T.self == Data.self {
            closeMessages(ownedAtOrBelow: Int(level))
            (value as! Data).withUnsafeBytes { writeBytesField(scalarField, $0) }
        } else if T.self == Date.self {
            closeMessages(ownedAtOrBelow: Int(level))
            try writeDateField(scalarField, value as! Date)
        } else if T.self == UUID.self {
            closeMessages(ownedAtOrBelow: Int(level))
            writeUUIDField(scalarField, value as! UUID)
        } else {
            closeMessages(ownedAtOrBelow: Int(level))
            let encoder = WireEncoderImpl(writer: self, field: field, level: level, position: position)
            if let sorted = value as? any WireSortedRepeated {
                try sorted.wireEncodeSorted(into: encoder)
            } else {
                try value.encode(to: encoder)
            }
            closeMessages(ownedAtOrBelow: Int(level))
        }
    }
}
