import CartTypes
import CartWire
import Foundation
import XCTest

/// Bad bytes from outside always give a typed `WireEncodingError`, never a crash, and are
/// refused before anything is allocated for them.
final class MalformedInputTests: XCTestCase {
    private func expectError<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], _ kind: WireEncodingError.Kind,
                                           limits: WireLimits = .default, _ story: String = "",
                                           file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try BinaryDecoder(limits: limits).decode(type, from: bytes), story, file: file, line: line) { error in
            XCTAssertEqual((error as? WireEncodingError)?.kind, kind, "\(story): \(error)", file: file, line: line)
        }
    }

    private var sampleSnapshot: CartSnapshot {
        CartSnapshot(cart: "cart-1", owner: "alice",
                     lines: [CartLine(item: "sku-1", quantity: 2, priceCents: 1999, note: "gift"),
                             CartLine(item: "sku-2", quantity: 1, priceCents: 5, note: nil)],
                     sharedWith: ["bob", "carol"], status: .active, version: 7,
                     createdAt: Date(timeIntervalSince1970: 1_700_000_000), updatedAt: Date(timeIntervalSince1970: 1_700_000_001.5))
    }

    // Cutting a valid snapshot at any byte leaves either a field cut in half (truncated,
    // lengthExceedsInput) or whole fields with the last required one missing: never a value.
    func testTruncationAtEveryOffsetFails() throws {
        let bytes = try BinaryEncoder().encode(sampleSnapshot)
        for length in 0..<bytes.count {
            XCTAssertThrowsError(try BinaryDecoder().decode(CartSnapshot.self, from: Array(bytes[..<length])),
                                 "prefix of \(length) bytes") { error in
                XCTAssertTrue(error is WireEncodingError, "prefix of \(length) bytes: \(error)")
            }
        }
    }

    // A length prefix of 2^62 bytes must fail on comparison with what remains, not by
    // trying to allocate 4 EiB.
    func testHugeLengthPrefixFailsWithoutAllocating() {
        let huge: [UInt8] = [0x0a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 0x61]
        expectError(CartLine.self, huge, .lengthExceedsInput)
        expectError([UInt8].self, huge, .lengthExceedsInput)
        expectError(String.self, huge, .lengthExceedsInput)
    }

    func testBadTagsAreRejected() {
        expectError(CartLine.self, [0x0b, 0x01], .invalidWireType, "wire type 3 (group start)")
        expectError(CartLine.self, [0x0c], .invalidWireType, "wire type 4 (group end)")
        expectError(CartLine.self, [0x0e, 0x01], .invalidWireType, "wire type 6")
        expectError(CartLine.self, [0x0f, 0x01], .invalidWireType, "wire type 7")
        expectError(CartLine.self, [0x00, 0x01], .invalidFieldNumber, "field number 0")
        expectError(CartLine.self, [0xf8, 0xff, 0xff, 0xff, 0x1f, 0x01], .invalidFieldNumber, "field number 2^32-1")
        expectError(CartLine.self, [0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], .varintOverflow,
                    "eleven-byte varint")
        expectError(CartLine.self, [0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02], .varintOverflow,
                    "tenth byte above 1")
        expectError(CartLine.self, [0x10, 0x80], .truncated, "varint cut off")
        expectError(Double.self, [0x09, 0x00, 0x00], .truncated, "fixed64 cut off")
    }

    // A value whose wire type cannot hold the requested Swift type, or whose value does not
    // fit it, is rejected with the field named.
    func testWrongTypesAndOutOfRangeValuesAreRejected() {
        expectError(CartLine.self, [0x0a, 0x01, 0x61, 0x10, 0x01, 0x18, 0x01, 0x22, 0x02, 0xff, 0xfe], .invalidUTF8)
        expectError(CartLine.self, [0x08, 0x01, 0x10, 0x01, 0x18, 0x01], .typeMismatch, "item as varint")
        expectError(CartLine.self, [0x0a, 0x00, 0x10, 0x80, 0x80, 0x80, 0x80, 0x20, 0x18, 0x01], .invalidValue,
                    "quantity beyond Int32")
        expectError(Bool.self, [0x08, 0x02], .invalidValue, "Bool 2")
        expectError(UUID.self, [0x0a, 0x02, 0x01, 0x02], .invalidValue, "UUID of 2 bytes")
        expectError(CartStatus.self, [0x08, 0x09], .invalidValue, "enum raw value 9")
        expectError(CartChange.self, [], .invalidValue, "enum with no case field")
    }

    func testMissingRequiredFieldNamesTheKey() throws {
        XCTAssertThrowsError(try BinaryDecoder().decode(CartLine.self, from: [0x0a, 0x01, 0x61, 0x18, 0x01])) { error in
            let wire = error as? WireEncodingError
            XCTAssertEqual(wire?.kind, .missingField)
            XCTAssertTrue(wire?.message.contains("quantity") ?? false, "\(error)")
        }
    }

    // A tree nested past depthMax is refused before recursing further.
    func testNestingBeyondDepthMaxIsRefused() throws {
        var tree = Tree(children: [])
        for _ in 0..<40 { tree = Tree(children: [tree]) }
        let bytes = try BinaryEncoder().encode(tree)
        expectError(Tree.self, bytes, .depthExceeded, limits: WireLimits(depthMax: 32))
        XCTAssertEqual(try BinaryDecoder(limits: WireLimits(depthMax: 200)).decode(Tree.self, from: bytes), tree)

        // 100 000 nested empty length-delimited fields in 200 kB: depth is checked on the way
        // down, so this fails fast instead of exhausting the stack.
        let levels = 100_000
        var bodyLengths = [0]
        for _ in 1..<levels { bodyLengths.append(1 + varint(bodyLengths.last!).count + bodyLengths.last!) }
        var deep: [UInt8] = []
        for length in bodyLengths.reversed() { deep += [0x0a] + varint(length) }
        expectError(Tree.self, deep, .depthExceeded)
    }

    func testElementAndByteBudgetsAreEnforced() throws {
        let many = [Int](repeating: 1, count: 1_000)
        let bytes = try BinaryEncoder().encode(many)
        expectError([Int].self, bytes, .elementsExceeded, limits: WireLimits(elementsMax: 999))
        XCTAssertEqual(try BinaryDecoder(limits: WireLimits(elementsMax: 1_000)).decode([Int].self, from: bytes), many)
        expectError([Int].self, bytes, .bytesExceeded, limits: WireLimits(bytesMax: bytes.count - 1))
    }

    // Seeded random byte strings and random mutations of valid messages: every outcome is
    // a value or a typed error.
    func testRandomBytesAndMutationsNeverCrash() throws {
        var random = SeededRandom.fromEnvironmentOrFresh()
        let valid = try BinaryEncoder().encode(sampleSnapshot)
        for _ in 0..<3_000 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                bytes[index] = UInt8.random(in: 0...255, using: &random)
            }
            if Bool.random(using: &random) { bytes = (0..<random.count(max: 64)).map { _ in UInt8.random(in: 0...255, using: &random) } }
            for attempt in [
                { _ = try BinaryDecoder().decode(CartSnapshot.self, from: bytes) },
                { _ = try BinaryDecoder().decode(Everything.self, from: bytes) },
                { _ = try BinaryDecoder().decode([CartChange].self, from: bytes) },
                { _ = try BinaryDecoder().decode([String: [UInt8]].self, from: bytes) },
            ] as [() throws -> Void] {
                do { try attempt() } catch {
                    XCTAssertTrue(error is WireEncodingError, "seed \(random.seed): \(error)")
                }
            }
        }
    }

    private func varint(_ value: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        Varint.append(UInt64(value), to: &bytes)
        return bytes
    }
}

/// A recursive message, to build arbitrarily deep input.
struct Tree: Codable, Hashable {
    var children: [Tree]

    enum CodingKeys: Int, CodingKey {
        case children = 1
    }
}
