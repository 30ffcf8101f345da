import CartTypes
import CartWire
import Foundation
import XCTest

/// The hand-written `WireMessage` path and the generic Codable path are two implementations
/// of one format: same bytes out, and each decodes what the other wrote.
final class FastPathTests: XCTestCase {
    /// Forces the generic path: inside this function `T` is only known to be Codable.
    private func genericEncode<T: Encodable>(_ value: T) throws -> [UInt8] { try BinaryEncoder().encode(value) }
    private func genericDecode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws -> T { try BinaryDecoder().decode(type, from: bytes) }

    func testFastAndGenericPathsAgreeOnRandomSnapshots() throws {
        var random = SeededRandom.fromEnvironmentOrFresh()
        for iteration in 0..<300 {
            let snapshot = random.snapshot()
            let context = "seed \(random.seed) iteration \(iteration) (rerun with WIRE_SEED=\(random.seed))"
            let fast = try BinaryEncoder().encode(snapshot)
            let generic = try genericEncode(snapshot)
            XCTAssertEqual(fast, generic, context)
            XCTAssertEqual(try BinaryDecoder().decode(CartSnapshot.self, from: generic), snapshot, context)
            XCTAssertEqual(try genericDecode(CartSnapshot.self, fast), snapshot, context)
            if fast != generic { return }
        }
    }

    func testFastPathReportsMissingFieldsAndSkipsUnknownOnes() throws {
        XCTAssertThrowsError(try BinaryDecoder().decode(CartLine.self, from: [0x0a, 0x01, 0x61, 0x18, 0x01])) { error in
            XCTAssertEqual((error as? WireEncodingError)?.kind, .missingField)
        }
        // Field 9 (unknown) between known fields is skipped.
        let bytes: [UInt8] = [0x0a, 0x01, 0x61, 0x4a, 0x02, 0x00, 0x00, 0x10, 0x02, 0x18, 0x04]
        XCTAssertEqual(try BinaryDecoder().decode(CartLine.self, from: bytes),
                       CartLine(item: "a", quantity: 1, priceCents: 2, note: nil))
    }

    // `string(reusing:)` hands back the candidate itself (its storage, not a copy) when the
    // field holds exactly its bytes, and otherwise decodes and checks the field as `string()`
    // does: a difference at any position, a shorter or longer string, bad UTF-8, a wrong wire type.
    func testAStringEqualToTheCandidateSharesItsStorage() throws {
        let candidate = ReusedString.candidate
        let decoded = try BinaryDecoder().decode(ReusedString.self, from: BinaryEncoder().encode(ReusedString(value: candidate)))
        XCTAssertEqual(decoded.value, candidate)
        XCTAssertEqual(decoded.value.utf8.withContiguousStorageIfAvailable { $0.baseAddress },
                       candidate.utf8.withContiguousStorageIfAvailable { $0.baseAddress }, "the candidate's own storage")
        var others = ["", String(candidate.dropLast()), candidate + "!", "Grüße 🛒"]
        for position in candidate.indices {
            var other = candidate
            other.replaceSubrange(position...position, with: "#")
            others.append(other)
        }
        for other in others {
            XCTAssertEqual(try BinaryDecoder().decode(ReusedString.self, from: BinaryEncoder().encode(ReusedString(value: other))).value, other)
        }
        var invalid = Array(candidate.utf8)
        invalid[3] = 0xff
        XCTAssertThrowsError(try BinaryDecoder().decode(ReusedString.self, from: [0x0a, UInt8(invalid.count)] + invalid)) { error in
            XCTAssertEqual((error as? WireEncodingError)?.kind, .invalidUTF8)
        }
        XCTAssertThrowsError(try BinaryDecoder().decode(ReusedString.self, from: [0x08, 0x01])) { error in
            XCTAssertEqual((error as? WireEncodingError)?.kind, .typeMismatch)
        }
    }

    func testFastPathSurvivesTruncationAndMutation() throws {
        var random = SeededRandom.fromEnvironmentOrFresh()
        let valid = try BinaryEncoder().encode(random.snapshot())
        for length in 0..<valid.count {
            do { _ = try BinaryDecoder().decode(CartSnapshot.self, from: Array(valid[..<length])) } catch {}
        }
        for _ in 0..<2_000 {
            var bytes = valid
            if !bytes.isEmpty { bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random) }
            do { _ = try BinaryDecoder().decode(CartSnapshot.self, from: bytes) } catch {}
        }
    }
}

/// One string field, read with `string(reusing:)` against a candidate longer than a String
/// stores inline.
private struct ReusedString: Codable, Equatable, WireMessage {
    static let candidate = "a candidate of 37 bytes, stored apart"
    var value: String

    init(value: String) { self.value = value }

    enum CodingKeys: Int, CodingKey { case value = 1 }

    func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        writer.write(1, value)
    }

    init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        var value: String?
        while let field = try reader.next() {
            if field.number == 1 { value = try field.string(reusing: Self.candidate) }
        }
        self.value = try WireFieldReader.required(value, "value", 1, in: Self.self)
    }
}
