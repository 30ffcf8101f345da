import CartTypes
import CartWire
import Foundation

/// Vectors name the Swift type of each value; this table turns the name into the operations
/// the vector tests need, so one JSON file drives encoding, decoding and comparison.
struct VectorType: Sendable {
    /// Decodes the vector's JSON value and encodes it in the binary format.
    let encodeJSON: @Sendable (Data) throws -> [UInt8]
    /// Decodes `bytes` and checks the result equals the vector's JSON value; returns the
    /// bytes of re-encoding the decoded value.
    let decodeAndCompare: @Sendable (_ bytes: [UInt8], _ json: Data) throws -> (equal: Bool, reencoded: [UInt8])
    /// Decodes `bytes` with `limits`, for invalid vectors.
    let decode: @Sendable (_ bytes: [UInt8], _ limits: WireLimits) throws -> Void
    /// The value as JSON, for writing vectors.
    let json: @Sendable (Any) throws -> Data
    /// For `WireMessage` types: encodes the JSON value through the hand-written fast path.
    var fastEncodeJSON: (@Sendable (Data) throws -> [UInt8])? = nil

    static func of<T: Codable & Equatable & SendableMetatype>(_ type: T.Type) -> VectorType {
        VectorType(
            encodeJSON: { json in try BinaryEncoder().encode(try VectorJSON.decoder.decode(T.self, from: json)) },
            decodeAndCompare: { bytes, json in
                let decoded = try BinaryDecoder().decode(T.self, from: bytes)
                let expected = try VectorJSON.decoder.decode(T.self, from: json)
                return (decoded == expected, try BinaryEncoder().encode(decoded))
            },
            decode: { bytes, limits in _ = try BinaryDecoder(limits: limits).decode(T.self, from: bytes) },
            json: { value in try VectorJSON.encoder.encode(value as! T) })
    }

    static func fast<T: WireMessage & Equatable & SendableMetatype>(_ type: T.Type) -> VectorType {
        var vectorType = of(T.self)
        vectorType.fastEncodeJSON = { json in try BinaryEncoder().encode(try VectorJSON.decoder.decode(T.self, from: json)) }
        return vectorType
    }

    static let byName: [String: VectorType] = [
        "Bool": .of(Bool.self), "Int": .of(Int.self), "Int8": .of(Int8.self), "Int16": .of(Int16.self),
        "Int32": .of(Int32.self), "Int64": .of(Int64.self), "UInt": .of(UInt.self), "UInt8": .of(UInt8.self),
        "UInt16": .of(UInt16.self), "UInt32": .of(UInt32.self), "UInt64": .of(UInt64.self),
        "Float": .of(Float.self), "Double": .of(Double.self), "String": .of(String.self),
        "[UInt8]": .of([UInt8].self), "Data": .of(Data.self), "UUID": .of(UUID.self), "Date": .of(Date.self),
        "Int64?": .of(Int64?.self), "[UInt32]": .of([UInt32].self), "[String]": .of([String].self),
        "[[UInt32]]": .of([[UInt32]].self), "Set<String>": .of(Set<String>.self),
        "[String: Int64]": .of([String: Int64].self), "NodeID": .of(NodeID.self),
        "CartLine": .fast(CartLine.self), "CartChange": .of(CartChange.self), "CartStatus": .of(CartStatus.self),
        "CartSnapshot": .fast(CartSnapshot.self), "Tree": .of(Tree.self),
        "Hello": .of(Hello.self), "HelloAck": .of(HelloAck.self), "ErrorPayload": .of(ErrorPayload.self),
        "LeaderHint": .of(LeaderHint.self), "GoAway": .of(GoAway.self), "Credit": .of(Credit.self),
        "Ping": .of(Ping.self), "Cancel": .of(Cancel.self), "StreamEnd": .of(StreamEnd.self),
    ]
}

enum VectorJSON {
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .millisecondsSince1970
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }
}

enum Hex {
    static func string(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// Parses hex digits, ignoring spaces so vectors can group bytes for readability.
    static func bytes(_ text: String) -> [UInt8] {
        let digits = Array(text.utf8.filter { $0 != UInt8(ascii: " ") })
        precondition(digits.count % 2 == 0, "odd number of hex digits in \(text)")
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
    }

    /// Groups bytes in twos of hex digits separated by spaces.
    static func spaced(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined(separator: " ")
    }
}

/// Where the committed vectors live, found from this file so tests run from any directory.
enum VectorFiles {
    static var directory: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("proto-spec/vectors")
    }
}
