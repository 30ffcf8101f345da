#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where the value being decoded is, mirroring `ValuePosition` on the encoding side.
/// Sixteen bytes, so that the decoder (reader plus location) fits `any Decoder` without a box.
struct DecodeLocation {
    enum Kind: UInt8 {
        /// `start..<end` is a message body: the top-level input.
        case root
        /// The value is field `field` of the message body `start..<end`.
        case field
        /// The value is one occurrence of a repeated field: `start..<end` with `wireType`.
        case element
    }

    var start: UInt32
    var end: UInt32
    var field: UInt32
    var kind: Kind
    var wireType: WireType
    var depth: UInt16
}

/// The `Decoder` handed to each value's `init(from:)`.
struct WireDecoderImpl: Decoder {
    let reader: WireReader
    let location: DecodeLocation

    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    private var start: Int { Int(location.start) }
    private var end: Int { Int(location.end) }

    /// A message's body: the whole input at the top level, otherwise a length-delimited value.
    func messageBody(for type: Any.Type) throws(WireEncodingError) -> (Int, Int) {
        try reader.checkDepth(Int(location.depth))
        switch location.kind {
        case .root:
            return (start, end)
        case .field:
            guard let field = try reader.lastField(location.field, in: start, end) else {
                throw WireEncodingError(.missingField, "field \(location.field) (\(type)) is missing")
            }
            guard field.wireType == .lengthDelimited else {
                throw WireEncodingError(.typeMismatch, "field \(field.number) has wire type \(field.wireType.rawValue), message \(type) needs 2")
            }
            return (field.start, field.end)
        case .element:
            guard location.wireType == .lengthDelimited else {
                throw WireEncodingError(.typeMismatch, "element of field \(location.field) has wire type \(location.wireType.rawValue), message \(type) needs 2")
            }
            return (start, end)
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        let (bodyStart, bodyEnd) = try messageBody(for: Key.self)
        return KeyedDecodingContainer(try WireKeyedDecodingContainer<Key>(
            reader: reader, start: bodyStart, end: bodyEnd, depth: location.depth))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        switch location.kind {
        case .root:
            return try WireUnkeyedDecodingContainer(reader: reader, start: start, end: end, field: 1, depth: location.depth)
        case .field:
            // A repeated field's elements are fields of the enclosing message, not nested in
            // it, so they keep this field's depth.
            return try WireUnkeyedDecodingContainer(reader: reader, start: start, end: end, field: location.field,
                                                    depth: location.depth - 1, bodyAlreadyCharged: true)
        case .element:
            let (bodyStart, bodyEnd) = try messageBody(for: [Any].self)
            return try WireUnkeyedDecodingContainer(reader: reader, start: bodyStart, end: bodyEnd, field: 1, depth: location.depth)
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        self
    }

    /// The one field a single value reads from, or nil if it is absent.
    func scalarField() throws(WireEncodingError) -> FieldRef? {
        switch location.kind {
        case .root:
            return try reader.lastField(1, in: start, end)
        case .field:
            return try reader.lastField(location.field, in: start, end)
        case .element:
            return FieldRef(number: location.field, wireType: location.wireType, start: start, end: end)
        }
    }

    func requiredScalarField(_ type: Any.Type) throws(WireEncodingError) -> FieldRef {
        guard let field = try scalarField() else {
            let number = location.kind == .root ? 1 : location.field
            throw WireEncodingError(.missingField, "field \(number) (\(type)) is missing")
        }
        return field
    }

    /// The repeated field (range of the enclosing message and field number) that holds a
    /// set's or dictionary's elements at this location.
    /// `depth` is the depth of the message holding the repeated field (its elements are one
    /// deeper), as for `unkeyedContainer()`.
    func repeatedSource() throws(WireEncodingError) -> (start: Int, end: Int, field: UInt32, depth: UInt16) {
        switch location.kind {
        case .root: return (start, end, 1, location.depth)
        case .field: return (start, end, location.field, location.depth - 1)
        case .element:
            let (bodyStart, bodyEnd) = try messageBody(for: [Any].self)
            return (bodyStart, bodyEnd, 1, location.depth)
        }
    }
}

extension WireReader {
    /// Decodes a `T` at `location`: the one place every generic value goes through, mirroring
    /// `WireWriter.encodeValue`, so the fast paths agree at every depth.
    @inline(__always)
    func decodeValue<T: Decodable>(_ type: T.Type, at location: DecodeLocation) throws -> T {
        let decoder = WireDecoderImpl(reader: self, location: location)
        if T.self == String.self {
            return try string(decoder.requiredScalarField(T.self)) as! T
        } else if T.self == UInt64.self {
            return try unsigned(decoder.requiredScalarField(T.self), as: UInt64.self) as! T
        } else if T.self == [UInt8].self {
            return try bytes(decoder.requiredScalarField(T.self)) as! T
        } else if T.self == Data.self {
            return try data(decoder.requiredScalarField(T.self)) as! T
        } else if T.self == Date.self {
            return try date(decoder.requiredScalarField(T.self)) as! T
        } else if T.self == UUID.self {
            return try uuid(decoder.requiredScalarField(T.self)) as! T
        } else if let dictionary = T.self as? any WireDecodableDictionary.Type {
            return try dictionary.init(wireDecoder: decoder) as! T
        }
        return try T(from: decoder)
    }
}
