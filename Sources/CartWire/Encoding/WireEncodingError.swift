/// Why a value could not be encoded, or bytes could not be decoded into a value.
///
/// `kind` is stable (the test vectors in `proto-spec/vectors/` name it by `kind.rawValue`);
/// `message` is for people and may change.
public struct WireEncodingError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        // Encoding: the Swift type cannot be expressed on the wire.
        /// A coding key has neither an integer value nor the `_0`, `_1`, … form.
        case keyWithoutFieldNumber
        /// A field number outside 1…2^29-1.
        case fieldNumberOutOfRange
        /// Something Codable can express that this format does not (nil inside a repeated
        /// field, class inheritance via `superEncoder`, …).
        case unsupportedShape

        // Decoding: the bytes are not a valid encoding of the requested type.
        /// The input ends in the middle of a tag or value.
        case truncated
        /// A varint longer than ten bytes or larger than 64 bits.
        case varintOverflow
        /// A tag with field number 0 or above 2^29-1.
        case invalidFieldNumber
        /// A tag with a wire type other than 0, 1, 2 or 5.
        case invalidWireType
        /// A length prefix larger than the bytes that remain in the enclosing message.
        case lengthExceedsInput
        /// A required field is absent.
        case missingField
        /// A field has a wire type that cannot hold the requested Swift type.
        case typeMismatch
        /// A number does not fit the requested integer type, a Bool is not 0 or 1, a UUID is
        /// not 16 bytes, an enum raw value names no case.
        case invalidValue
        /// A string is not valid UTF-8.
        case invalidUTF8
        /// Nesting deeper than `WireLimits.depthMax`.
        case depthExceeded
        /// More fields and elements than `WireLimits.elementsMax`.
        case elementsExceeded
        /// Input longer than `WireLimits.bytesMax`.
        case bytesExceeded
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind.rawValue): \(message)" }

    /// The error code a peer reports when this error rejects its request.
    public var errorCode: ErrorCode {
        switch kind {
        case .keyWithoutFieldNumber, .fieldNumberOutOfRange, .unsupportedShape: .internal
        default: .invalidArgument
        }
    }
}
