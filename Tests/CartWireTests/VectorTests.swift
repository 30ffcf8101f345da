import CartTypes
import CartWire
import Foundation
import NIOCore
import XCTest

/// Checks the code against the committed vectors in `proto-spec/vectors/`, which the
/// protocol spec points implementers to. Regenerate them after an intended format change
/// with `WIRE_WRITE_VECTORS=1 swift test --filter VectorTests/testCommittedVectorsAreWhatTheCatalogueGenerates`, and
/// review the diff: a changed byte there is a wire incompatibility.
final class VectorTests: XCTestCase {
    private func type(_ entry: VectorEntry) throws -> VectorType {
        let name = try XCTUnwrap(entry["type"], "\(entry.name): no type")
        return try XCTUnwrap(VectorType.byName[name], "\(entry.name): unknown type \(name)")
    }

    private func checkValueVectors(_ file: String) throws {
        let entries = try VectorFile.read(file)
        XCTAssertFalse(entries.isEmpty, file)
        for entry in entries {
            let type = try type(entry)
            let json = Data(try XCTUnwrap(entry["value"], entry.name).utf8)
            let expected = Hex.bytes(try XCTUnwrap(entry["hex"], entry.name))
            XCTAssertEqual(Hex.spaced(try type.encodeJSON(json)), Hex.spaced(expected), "\(file): \(entry.name): encoding")
            let (equal, reencoded) = try type.decodeAndCompare(expected, json)
            XCTAssertTrue(equal, "\(file): \(entry.name): decoded value differs from the vector's value")
            XCTAssertEqual(reencoded, expected, "\(file): \(entry.name): re-encoding")
            if let fast = type.fastEncodeJSON {
                XCTAssertEqual(Hex.spaced(try fast(json)), Hex.spaced(expected), "\(file): \(entry.name): fast path")
            }
        }
    }

    func testPrimitiveVectorsMatchEncoderAndDecoder() throws {
        try checkValueVectors("primitives.vectors")
    }

    func testMessageVectorsMatchEncoderDecoderAndFastPath() throws {
        try checkValueVectors("messages.vectors")
    }

    func testFrameVectorsMatchFrameCodec() throws {
        let entries = try VectorFile.read("frames.vectors")
        var typesSeen = Set<FrameType>()
        for entry in entries {
            var wire = ByteBuffer(bytes: Hex.bytes(try XCTUnwrap(entry["hex"], entry.name)))
            let original = wire
            let frame = try XCTUnwrap(try FrameCodec.decode(from: &wire), entry.name)
            XCTAssertEqual(wire.readableBytes, 0, "\(entry.name): bytes left after the frame")
            XCTAssertEqual(frame.type.description, entry["frame"], entry.name)
            XCTAssertEqual(frame.header.version, UInt8(try XCTUnwrap(entry["version"], entry.name)), entry.name)
            XCTAssertEqual(frame.streamID.rawValue, UInt32(try XCTUnwrap(entry["stream"], entry.name)), entry.name)
            XCTAssertEqual(frame.methodID.rawValue, UInt16(try XCTUnwrap(entry["method"], entry.name)), entry.name)
            XCTAssertEqual(frame.deadlineMs.map(String.init), entry["deadline-ms"], entry.name)
            XCTAssertEqual(Hex.spaced(frame.payload.readableBytesView), entry["payload-hex"] ?? "", entry.name)
            if let payloadType = entry["payload-type"] {
                let type = try XCTUnwrap(VectorType.byName[payloadType], entry.name)
                let json = Data(try XCTUnwrap(entry["payload"], entry.name).utf8)
                XCTAssertTrue(try type.decodeAndCompare(Array(frame.payload.readableBytesView), json).equal, entry.name)
            }
            XCTAssertEqual(try FrameCodec.encode(frame), original, "\(entry.name): re-encoding")
            typesSeen.insert(frame.type)
        }
        XCTAssertEqual(typesSeen, Set(FrameType.allCases), "every frame type needs a vector")
    }

    func testInvalidVectorsFailWithTheNamedError() throws {
        let entries = try VectorFile.read("invalid.vectors")
        var kindsSeen = Set<String>()
        for entry in entries {
            let bytes = Hex.bytes(entry["hex"] ?? "")
            let expected = try XCTUnwrap(entry["error"], entry.name)
            kindsSeen.insert(expected)
            if entry["type"] == "frame" {
                let limits = entry["frame-bytes-max"].map { FrameLimits(frameBytesMax: Int($0)!) } ?? .default
                var wire = ByteBuffer(bytes: bytes)
                XCTAssertThrowsError(try FrameCodec.decode(from: &wire, limits: limits), entry.name) { error in
                    XCTAssertEqual((error as? FrameError)?.kind.rawValue, expected, "\(entry.name): \(error)")
                }
            } else {
                let type = try type(entry)
                var limits = WireLimits()
                if let depth = entry["depth-max"] { limits.depthMax = Int(depth)! }
                if let elements = entry["elements-max"] { limits.elementsMax = Int(elements)! }
                if let bytes = entry["bytes-max"] { limits.bytesMax = Int(bytes)! }
                XCTAssertThrowsError(try type.decode(bytes, limits), entry.name) { error in
                    XCTAssertEqual((error as? WireEncodingError)?.kind.rawValue, expected, "\(entry.name): \(error)")
                }
            }
        }
        let decodingKinds = WireEncodingError.Kind.allCases
            .filter { ![.keyWithoutFieldNumber, .fieldNumberOutOfRange, .unsupportedShape].contains($0) }.map(\.rawValue)
        let frameKinds = FrameError.Kind.allCases.filter { $0 != .truncated }.map(\.rawValue)
        XCTAssertEqual(Set(decodingKinds + frameKinds).subtracting(kindsSeen), [], "every decoding error needs a vector")
    }

    // MARK: generation

    /// The committed vector files are exactly what `VectorCatalogue` generates, so a value added
    /// to the catalogue cannot be forgotten in the spec. With `WIRE_WRITE_VECTORS=1` the files
    /// are rewritten instead (after an intended format change; review the diff).
    func testCommittedVectorsAreWhatTheCatalogueGenerates() throws {
        let rewrite = ProcessInfo.processInfo.environment["WIRE_WRITE_VECTORS"] == "1"
        for (name, text) in try generatedVectorFiles() {
            if rewrite {
                try VectorFile.write(name, text)
            } else {
                XCTAssertEqual(try VectorFile.text(name), text,
                               "proto-spec/vectors/\(name) differs from VectorCatalogue; rerun with WIRE_WRITE_VECTORS=1")
            }
        }
    }

    private func generatedVectorFiles() throws -> [(String, String)] {
        [("primitives.vectors", VectorFile.render(header: [
            "SharedCart wire encoding: one vector per primitive shape. Each value is encoded as the",
            "top-level value (a non-message top-level value is field 1 of an implicit message).",
            "value: the value as JSON (dates in ms since 1970, bytes as base64); hex: its encoding.",
        ], try VectorCatalogue.primitives.map(valueEntry))),
        ("messages.vectors", VectorFile.render(header: [
            "SharedCart wire encoding: messages. The envelope payloads (Hello, HelloAck, ErrorPayload,",
            "GoAway, Credit, Ping, Cancel, StreamEnd) are the protocol's own; CartLine, CartChange,",
            "CartSnapshot and Tree are example messages showing nesting, enums, sets and recursion.",
        ], try VectorCatalogue.messages.map(valueEntry))),
        ("frames.vectors", VectorFile.render(header: [
            "SharedCart frames: one vector per frame type. hex is the whole frame including the",
            "4-byte length prefix; payload is the payload message as JSON, payload-hex its bytes.",
        ], try VectorCatalogue.frames.map(frameEntry))),
        ("invalid.vectors", VectorFile.render(header: [
            "Inputs every implementation must reject, and the error each must produce.",
            "type: the type being decoded, or `frame` for the frame codec. Optional limits:",
            "depth-max, elements-max, bytes-max (message decoding), frame-bytes-max (frames).",
        ], (VectorCatalogue.invalidMessages + VectorCatalogue.invalidFrames).map(invalidEntry)))]
    }

    private func valueEntry(_ value: VectorCatalogue.Value) throws -> VectorEntry {
        let type = try XCTUnwrap(VectorType.byName[value.type], value.type)
        let json = try value.json.map { Data($0.utf8) } ?? type.json(value.value)
        var entry = VectorEntry(name: value.name, description: [value.description])
        entry.fields = [("type", value.type), ("value", String(decoding: json, as: UTF8.self)),
                        ("hex", Hex.spaced(try type.encodeJSON(json)))]
        return entry
    }

    private func frameEntry(_ frameCase: VectorCatalogue.FrameCase) throws -> VectorEntry {
        let frame = frameCase.frame
        var entry = VectorEntry(name: frameCase.name, description: [frameCase.description])
        entry.fields = [("frame", frame.type.description), ("version", String(frame.header.version)),
                        ("stream", String(frame.streamID.rawValue)), ("method", String(frame.methodID.rawValue))]
        if let deadline = frame.deadlineMs { entry.fields.append(("deadline-ms", String(deadline))) }
        if let payloadType = frameCase.payloadType, let payload = frameCase.payload {
            let json = try XCTUnwrap(VectorType.byName[payloadType]).json(payload)
            entry.fields += [("payload-type", payloadType), ("payload", String(decoding: json, as: UTF8.self))]
        }
        if frame.payload.readableBytes > 0 { entry.fields.append(("payload-hex", Hex.spaced(frame.payload.readableBytesView))) }
        entry.fields.append(("hex", Hex.spaced(try FrameCodec.encode(frame).readableBytesView)))
        return entry
    }

    private func invalidEntry(_ invalid: VectorCatalogue.Invalid) -> VectorEntry {
        var entry = VectorEntry(name: invalid.name, description: [invalid.description])
        entry.fields = [("type", invalid.type)] + invalid.limits.map { ($0.0, String($0.1)) }
            + [("hex", invalid.hex), ("error", invalid.error)]
        return entry
    }
}
