import CartTypes
import CartWire
import Foundation
import XCTest

/// Seeded random round trips: decode(encode(x)) == x, and encoding is deterministic
/// (re-encoding the decoded value, with sets and dictionaries rebuilt in a different hash
/// order, gives the same bytes). A failure prints the seed; rerun with WIRE_SEED=<seed>.
final class BinaryRoundTripTests: XCTestCase {
    private let iterations = 300

    private func checkRoundTrips<T: Codable & Equatable>(_ make: (inout SeededRandom) -> T,
                                                         file: StaticString = #filePath, line: UInt = #line) throws {
        var random = SeededRandom.fromEnvironmentOrFresh()
        let seed = random.seed
        for iteration in 0..<iterations {
            let value = make(&random)
            let context = "\(T.self) seed \(seed) iteration \(iteration) (rerun with WIRE_SEED=\(seed))"
            let bytes = try BinaryEncoder().encode(value)
            let decoded = try BinaryDecoder().decode(T.self, from: bytes)
            XCTAssertEqual(decoded, value, context, file: file, line: line)
            XCTAssertEqual(try BinaryEncoder().encode(decoded), bytes, "not deterministic: \(context)", file: file, line: line)
            if decoded != value { return }
        }
    }

    func testEveryScalarCollectionAndEnumShapeRoundTrips() throws {
        try checkRoundTrips { $0.everything() }
    }

    func testCartSnapshotWithNestedLinesAndSharedUsersRoundTrips() throws {
        try checkRoundTrips { $0.snapshot() }
    }

    func testEnumWithAssociatedValuesRoundTripsEveryCase() throws {
        try checkRoundTrips { $0.change() }
    }

    // A top-level value that is not a message is field 1 of an implicit message; scalars,
    // strings, arrays, sets and identifiers all round-trip that way.
    func testTopLevelNonMessageValuesRoundTrip() throws {
        try checkRoundTrips { $0.integer(Int64.self) }
        try checkRoundTrips { $0.string() }
        try checkRoundTrips { random in (0..<random.count()).map { _ in random.line() } }
        try checkRoundTrips { random in Set((0..<random.count()).map { _ in random.integer(UInt16.self) }) }
        try checkRoundTrips { NodeID($0.integer()) }
        try checkRoundTrips { $0.bytes() }
        try checkRoundTrips { $0.uuid() }
    }

    // Equal sets built in different orders (hence different hash-table layouts) encode to
    // the same bytes, as do equal dictionaries.
    func testSetsAndDictionariesEncodeIndependentlyOfInsertionOrder() throws {
        let words = (0..<200).map { "user-\($0)" }
        var forward = Set<UserID>(minimumCapacity: 4)
        for word in words { forward.insert(UserID(word)) }
        var backward = Set<UserID>(minimumCapacity: 512)
        for word in words.reversed() { backward.insert(UserID(word)) }
        XCTAssertEqual(try BinaryEncoder().encode(forward), try BinaryEncoder().encode(backward))

        let left = Dictionary(uniqueKeysWithValues: words.enumerated().map { ($1, $0) })
        var right = [String: Int](minimumCapacity: 1000)
        for (index, word) in words.enumerated().reversed() { right[word] = index }
        XCTAssertEqual(try BinaryEncoder().encode(left), try BinaryEncoder().encode(right))
    }

    // Messages larger than 127 bytes need a multi-byte length; the encoder widens the length
    // placeholder in place, at every nesting level.
    func testNestedMessagesLongerThanOneLengthByteRoundTrip() throws {
        let long = String(repeating: "x", count: 20_000)
        let line = CartLine(item: ItemID(long), quantity: 1, priceCents: 2, note: long)
        let nested: [[CartLine]] = [[line, line], [], [line]]
        let bytes = try BinaryEncoder().encode(nested)
        XCTAssertEqual(try BinaryDecoder().decode([[CartLine]].self, from: bytes), nested)
    }
}
