import CartRaft
import CartTypes
import XCTest

/// Quorum arithmetic of a voter set.
final class ConfigurationTests: XCTestCase {
    /// The commit index is the highest index a majority holds: the quorum-th largest match
    /// index. Checked against sorting for every group size up to 7 and many match patterns
    /// (duplicates, zeros, unsorted voters), each pattern drawn from a printed seed.
    func testCommittedIndexIsTheQuorumThLargestMatchIndex() {
        for seed in UInt64(1)...2_000 {
            var random = SplitMix64(seed: seed)
            let size = Int(random.next() % 7) + 1
            let voters = (1...size).map { NodeID(UInt64($0) * 7 % 11 + 1) }
            let configuration = Configuration(voters: voters)
            var matches: [NodeID: LogIndex] = [:]
            for voter in configuration.voters { matches[voter] = LogIndex(random.next() % 6) }
            let expected = configuration.voters.map { matches[$0]! }.sorted(by: >)[configuration.quorumSize - 1]
            XCTAssertEqual(configuration.committedIndex { matches[$0]! }, expected, "seed \(seed), matches \(matches)")
        }
    }

    func testCommittedIndexOfThreeVotersNeedsTwo() {
        let configuration = Configuration(voters: [3, 1, 2])
        let matches: [NodeID: LogIndex] = [1: 9, 2: 4, 3: 7]
        XCTAssertEqual(configuration.committedIndex { matches[$0]! }, 7)
        XCTAssertEqual(Configuration(voters: []).committedIndex { _ in 5 }, .zero)
    }
}
