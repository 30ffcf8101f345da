import CartTypes
import XCTest

final class PartitionMapTests: XCTestCase {
    /// Placement must never change between releases: these values are pinned.
    func testPartitionOfCartIsStableAcrossProcesses() {
        XCTAssertEqual(StableHash.fnv1a64(""), 0xcbf2_9ce4_8422_2325)
        XCTAssertEqual(StableHash.fnv1a64("a"), 0xaf63_dc4c_8601_ec8c)
        let map = PartitionMap(partitionCount: 16)
        XCTAssertEqual(map.partition(of: CartID("a")), PartitionID(UInt32(UInt64(0xaf63_dc4c_8601_ec8c) % 16)))
    }

    func testCartsSpreadOverEveryPartition() {
        let map = PartitionMap(partitionCount: 16)
        var counts = [UInt32: Int]()
        for i in 0..<16_000 { counts[map.partition(of: CartID("cart-\(i)")).rawValue, default: 0] += 1 }
        XCTAssertEqual(counts.count, 16)
        for (_, n) in counts { XCTAssertGreaterThan(n, 700); XCTAssertLessThan(n, 1300) }
    }

    func testIdentifiersOfDifferentKindsAreDistinctTypesButOrderByRawValue() {
        XCTAssertLessThan(Term(1), Term(2))
        XCTAssertEqual(LogIndex(5).next, LogIndex(6))
        XCTAssertEqual(LogIndex(5).distance(to: LogIndex(9)), 4)
        XCTAssertEqual(Term.zero.next.description, "t1")
    }
}
