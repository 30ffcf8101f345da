/// Reads the occurrences of one repeated field, in order.
struct WireUnkeyedDecodingContainer: UnkeyedDecodingContainer {
    let reader: WireReader
    let end: Int
    let field: UInt32
    /// Depth of the enclosing message; elements are one deeper.
    let depth: UInt16
    /// Where to look for the next occurrence.
    private var offset: Int

    let count: Int?
    private(set) var currentIndex = 0

    /// `bodyAlreadyCharged`: the enclosing message was validated and charged by its keyed
    /// container (a repeated field of a message), so only the scan for `field` remains.
    init(reader: WireReader, start: Int, end: Int, field: UInt32, depth: UInt16,
         bodyAlreadyCharged: Bool = false) throws(WireEncodingError) {
        self.reader = reader
        self.end = end
        self.field = field
        self.depth = depth
        self.offset = start
        self.count = try reader.validateMessage(start, end, counting: field, charging: !bodyAlreadyCharged)
    }

    var codingPath: [any CodingKey] { [] }
    var isAtEnd: Bool { currentIndex >= count! }

    private mutating func next(_ type: Any.Type) throws(WireEncodingError) -> FieldRef {
        guard !isAtEnd, let element = try reader.nextField(field, from: &offset, end: end) else {
            throw WireEncodingError(.missingField, "repeated field \(field) has no element \(currentIndex) (\(type))")
        }
        currentIndex += 1
        return element
    }

    private mutating func nextLocation(_ type: Any.Type) throws(WireEncodingError) -> DecodeLocation {
        let element = try next(type)
        return DecodeLocation(start: UInt32(element.start), end: UInt32(element.end), field: field,
                              kind: .element, wireType: element.wireType, depth: depth + 1)
    }

    mutating func decodeNil() throws -> Bool { false }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try reader.bool(next(type)) }
    mutating func decode(_ type: String.Type) throws -> String { try reader.string(next(type)) }
    mutating func decode(_ type: Double.Type) throws -> Double { try reader.double(next(type)) }
    mutating func decode(_ type: Float.Type) throws -> Float { try reader.float(next(type)) }
    mutating func decode(_ type: Int.Type) throws -> Int { try reader.signed(next(type), as: type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try reader.signed(next(type), as: type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try reader.signed(next(type), as: type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try reader.signed(next(type), as: type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try reader.signed(next(type), as: type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try reader.unsigned(next(type), as: type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try reader.unsigned(next(type), as: type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try reader.unsigned(next(type), as: type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try reader.unsigned(next(type), as: type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try reader.unsigned(next(type), as: type) }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try reader.decodeValue(type, at: nextLocation(type))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try WireDecoderImpl(reader: reader, location: nextLocation(type)).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try WireDecoderImpl(reader: reader, location: nextLocation([Any].self)).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        throw WireEncodingError(.unsupportedShape, "superDecoder (class inheritance) is not supported")
    }
}
