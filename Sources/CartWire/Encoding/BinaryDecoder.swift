import NIOCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Decodes values encoded by `BinaryEncoder`. Unknown fields are skipped, so older readers
/// accept messages from newer writers; an absent optional is nil, an absent repeated field
/// is empty, any other absent field is `missingField`.
///
/// No input can crash the decoder: every length is checked against the bytes that remain
/// before it is used, nesting, element counts and input size are bounded by `limits`, and
/// memory grows only with the values actually decoded (a small multiple of the input).
/// Every failure is a `WireEncodingError`, including errors thrown by a type's own
/// `init(from:)` (reported as `invalidValue`).
public struct BinaryDecoder: Sendable {
    public var limits: WireLimits

    public init(limits: WireLimits = .default) {
        self.limits = limits
    }

    public func decode<T: Decodable>(_ type: T.Type, from bytes: UnsafeRawBufferPointer) throws(WireEncodingError) -> T {
        guard bytes.count <= limits.bytesMax else {
            throw WireEncodingError(.bytesExceeded, "input of \(bytes.count) bytes exceeds bytesMax \(limits.bytesMax)")
        }
        guard bytes.count <= Int(UInt32.max) else {
            throw WireEncodingError(.bytesExceeded, "input of \(bytes.count) bytes exceeds 4 GiB")
        }
        let reader = WireReader(input: bytes, limits: limits)
        let root = DecodeLocation(start: 0, end: UInt32(bytes.count), field: 1, kind: .root,
                                  wireType: .lengthDelimited, depth: 0)
        do {
            return try reader.decodeValue(type, at: root)
        } catch let error as WireEncodingError {
            throw error
        } catch {
            throw WireEncodingError(.invalidValue, "\(T.self): \(error)")
        }
    }

    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws(WireEncodingError) -> T {
        try Self.borrowing(bytes) { (raw) throws(WireEncodingError) in try decode(type, from: raw) }
    }

    public func decode<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws(WireEncodingError) -> T {
        let result: Result<T, WireEncodingError> = buffer.withUnsafeReadableBytes { raw in
            Result { () throws(WireEncodingError) in try decode(type, from: raw) }
        }
        return try result.get()
    }

    public func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(WireEncodingError) -> T {
        let result: Result<T, WireEncodingError> = data.withUnsafeBytes { raw in
            Result { () throws(WireEncodingError) in try decode(type, from: raw) }
        }
        return try result.get()
    }

    private static func borrowing<R>(_ bytes: [UInt8],
                                     _ body: (UnsafeRawBufferPointer) throws(WireEncodingError) -> R) throws(WireEncodingError) -> R {
        let result: Result<R, WireEncodingError> = bytes.withUnsafeBytes { raw in
            Result { () throws(WireEncodingError) in try body(raw) }
        }
        return try result.get()
    }
}
