@testable import CartLoad
import XCTest

/// The fan-out figures count every delivery of a measured change, the slow ones included.
final class WatchFanoutFiguresTests: XCTestCase {
    // Two watchers on the leader. The first received seqs 10 and 11 live (with the leader's
    // commit times); the second fell behind and got both re-read from history (no commit
    // time), 50 ms after the commit. Those slow deliveries must be in the from-commit
    // figure, timed against the leader's commit of the same seq, not left out of it.
    func testDeliveriesReReadFromHistoryCountFromTheLeadersCommit() {
        let fast = WatchFanout.Received(), slow = WatchFanout.Received()
        fast.log.withLockedValue { log in
            log.seqs = [10, 11]; log.nanos = [1_000, 2_000]
            log.wallMicros = [1_000_100, 1_001_100]; log.committedAtMicros = [1_000_000, 1_001_000]
        }
        slow.log.withLockedValue { log in
            log.seqs = [10, 11]; log.nanos = [50_000_000, 50_000_100]
            log.wallMicros = [1_050_000, 1_051_000]; log.committedAtMicros = [nil, nil]
        }
        let writes = [WatchFanout.Write(seq: 10, sentNanos: 0, ackedNanos: 500), WatchFanout.Write(seq: 11, sentNanos: 1_000, ackedNanos: 1_500)]
        let figures = WatchFanout.measure(writes: writes, received: [fast, slow], onLeader: [true, true], watchNode: .leader,
                                          startSeq: 10, lastSeq: 11, resumes: 0)
        XCTAssertEqual(figures.fromCommit.calls, 4, "all four deliveries are timed")
        XCTAssertEqual(figures.withoutCommitTime, 0)
        XCTAssertEqual(figures.watchersComplete, 2)
        XCTAssertGreaterThanOrEqual(figures.fromCommit.histogram.max, 49_000_000, "the re-read deliveries were 50 ms late")
    }
}
