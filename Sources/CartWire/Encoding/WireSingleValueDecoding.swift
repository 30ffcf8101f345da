/// Reads a single value from one field (field 1 at the top level).
extension WireDecoderImpl: SingleValueDecodingContainer {
    /// A top-level nil is empty input; a field is nil when absent; an element is never nil.
    /// A malformed message reads as "present" here and is reported by the decode that follows.
    func decodeNil() -> Bool {
        switch location.kind {
        case .root: location.start == location.end
        case .field: ((try? scalarField()) ?? nil) == nil
        case .element: false
        }
    }

    func decode(_ type: Bool.Type) throws -> Bool { try reader.bool(requiredScalarField(type)) }
    func decode(_ type: String.Type) throws -> String { try reader.string(requiredScalarField(type)) }
    func decode(_ type: Double.Type) throws -> Double { try reader.double(requiredScalarField(type)) }
    func decode(_ type: Float.Type) throws -> Float { try reader.float(requiredScalarField(type)) }
    func decode(_ type: Int.Type) throws -> Int { try reader.signed(requiredScalarField(type), as: type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try reader.signed(requiredScalarField(type), as: type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try reader.signed(requiredScalarField(type), as: type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try reader.signed(requiredScalarField(type), as: type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try reader.signed(requiredScalarField(type), as: type) }
    func decode(_ type: UInt.Type) throws -> UInt { try reader.unsigned(requiredScalarField(type), as: type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try reader.unsigned(requiredScalarField(type), as: type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try reader.unsigned(requiredScalarField(type), as: type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try reader.unsigned(requiredScalarField(type), as: type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try reader.unsigned(requiredScalarField(type), as: type) }

    /// A wrapper around another value is transparent, as when encoding.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try reader.decodeValue(type, at: location)
    }
}
