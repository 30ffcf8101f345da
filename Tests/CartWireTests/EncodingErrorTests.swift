import CartTypes
import CartWire
import XCTest

/// Types the format cannot express fail to encode with an error that names the type and key,
/// and evolution rules hold: unknown fields are skipped, absent optionals are nil.
final class EncodingErrorTests: XCTestCase {
    private struct StringKeyed: Codable {
        var name: String
    }

    private struct ZeroNumbered: Codable {
        var first: Int
        enum CodingKeys: Int, CodingKey { case first }
    }

    func testTypeWithoutIntegerKeysFailsNamingTypeAndKey() {
        XCTAssertThrowsError(try BinaryEncoder().encode(StringKeyed(name: "x"))) { error in
            let wire = error as? WireEncodingError
            XCTAssertEqual(wire?.kind, .keyWithoutFieldNumber)
            XCTAssertTrue(wire?.message.contains("StringKeyed") ?? false, "\(error)")
            XCTAssertTrue(wire?.message.contains("name") ?? false, "\(error)")
        }
    }

    func testKeyNumberedZeroFailsWithAHint() {
        XCTAssertThrowsError(try BinaryEncoder().encode(ZeroNumbered(first: 1))) { error in
            XCTAssertEqual((error as? WireEncodingError)?.kind, .fieldNumberOutOfRange)
        }
    }

    func testNilInsideARepeatedFieldIsRefused() {
        XCTAssertThrowsError(try BinaryEncoder().encode([1, nil, 3] as [Int?])) { error in
            XCTAssertEqual((error as? WireEncodingError)?.kind, .unsupportedShape)
        }
    }

    // An encoding error leaves the caller's buffer as it was.
    func testFailedEncodeLeavesReusedBufferUnchanged() {
        var buffer: [UInt8] = [1, 2, 3]
        XCTAssertThrowsError(try BinaryEncoder().encode(StringKeyed(name: "x"), into: &buffer))
        XCTAssertEqual(buffer, [1, 2, 3])
    }

    private struct LineV2: Codable, Hashable {
        var item: ItemID
        var quantity: Int32
        var priceCents: Int64
        var note: String?
        var giftMessage: String
        var tags: [String]
        var discount: Double

        enum CodingKeys: Int, CodingKey {
            case item = 1, quantity = 2, priceCents = 3, note = 4, giftMessage = 5, tags = 6, discount = 7
        }
    }

    // A newer writer's extra fields are skipped by an older reader; an older writer's
    // message decodes in a newer reader only where the new fields are optional or repeated.
    func testOldReaderSkipsFieldsAddedByNewWriter() throws {
        let new = LineV2(item: "sku-9", quantity: 3, priceCents: 100, note: nil, giftMessage: "hi",
                         tags: ["a", "b"], discount: 0.5)
        let old = try BinaryDecoder().decode(CartLine.self, from: try BinaryEncoder().encode(new))
        XCTAssertEqual(old, CartLine(item: "sku-9", quantity: 3, priceCents: 100, note: nil))

        XCTAssertThrowsError(try BinaryDecoder().decode(LineV2.self, from: try BinaryEncoder().encode(old))) { error in
            XCTAssertEqual((error as? WireEncodingError)?.kind, .missingField)
        }
    }

    func testEmptyInputIsAMessageWithNoFieldsAndANilTopLevelOptional() throws {
        XCTAssertEqual(try BinaryEncoder().encode(Int?.none), [])
        XCTAssertNil(try BinaryDecoder().decode(Int?.self, from: []))
        XCTAssertEqual(try BinaryDecoder().decode(Cancel.self, from: []), Cancel(reason: nil))
        XCTAssertEqual(try BinaryDecoder().decode([String].self, from: []), [])
    }
}
