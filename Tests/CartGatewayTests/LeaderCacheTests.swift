import CartTypes
import XCTest
@testable import CartGateway

/// The leader cache: redirects teach it, stale hints do not overwrite newer ones (Raft §5.2:
/// at most one leader per term, so a higher term is newer information).
final class LeaderCacheTests: XCTestCase {
    /// A redirect with a leader hint is remembered per partition.
    func testRedirectHintIsRemembered() {
        let cache = LeaderCache()
        XCTAssertNil(cache.leader(of: 4))
        XCTAssertTrue(cache.learn(.init(node: 2, term: 5), for: 4))
        XCTAssertEqual(cache.leader(of: 4), .init(node: 2, term: 5))
        XCTAssertNil(cache.leader(of: 5))
        XCTAssertFalse(cache.learn(.init(node: .none, term: 9), for: 4), "\"no leader\" is not a hint")
    }

    /// A delayed redirect from an older term arrives after a newer one: it is ignored; a
    /// newer term replaces the entry; the same leader re-confirmed in its term is accepted.
    func testOnlyHigherTermsReplaceAKnownTerm() {
        let cache = LeaderCache()
        cache.learn(.init(node: 2, term: 5), for: 1)
        XCTAssertFalse(cache.learn(.init(node: 3, term: 4), for: 1))
        XCTAssertFalse(cache.learn(.init(node: 3, term: 5), for: 1), "a second leader in the same term cannot be right")
        XCTAssertTrue(cache.learn(.init(node: 2, term: 5), for: 1))
        XCTAssertFalse(cache.learn(.init(node: 3, term: nil), for: 1), "a hint without a term cannot beat a known term")
        XCTAssertTrue(cache.learn(.init(node: 3, term: 6), for: 1))
        XCTAssertEqual(cache.leader(of: 1), .init(node: 3, term: 6))
    }

    /// Without terms, the latest hint wins; any term beats no term.
    func testHintsWithoutTermsReplaceEachOther() {
        let cache = LeaderCache()
        cache.learn(.init(node: 2, term: nil), for: 1)
        XCTAssertTrue(cache.learn(.init(node: 3, term: nil), for: 1))
        XCTAssertTrue(cache.learn(.init(node: 1, term: 1), for: 1))
        XCTAssertEqual(cache.leader(of: 1), .init(node: 1, term: 1))
    }

    /// A call to the cached leader failed without a redirect: the entry goes, unless someone
    /// already replaced it with a different leader.
    func testInvalidateDropsOnlyTheLeaderThatFailed() {
        let cache = LeaderCache()
        cache.learn(.init(node: 2, term: 5), for: 1)
        cache.invalidate(1, ifLeaderIs: 3)
        XCTAssertEqual(cache.leader(of: 1)?.node, 2)
        cache.invalidate(1, ifLeaderIs: 2)
        XCTAssertNil(cache.leader(of: 1))
        XCTAssertTrue(cache.learn(.init(node: 3, term: 2), for: 1), "after invalidation any hint is accepted")
    }

    /// Hints for more partitions than the cache may hold are dropped, keeping memory bounded.
    func testEntryCountIsBounded() {
        let cache = LeaderCache(entriesMax: 3)
        for partition in 0..<10 { cache.learn(.init(node: 1, term: 1), for: PartitionID(UInt32(partition))) }
        XCTAssertEqual(cache.count, 3)
        XCTAssertTrue(cache.learn(.init(node: 2, term: 2), for: 0), "known partitions still update")
    }
}
