@testable import CartRPC
import NIOCore
import NIOEmbedded
import XCTest

/// The server's bookkeeping of open connections around a shutdown.
final class ConnectionTrackerTests: XCTestCase {
    /// A connection whose pipeline is set up after the shutdown asked every open connection
    /// to drain (it was accepted just before the listener closed) must not be missed: it is
    /// refused, and its caller closes it. It used to stay open, neither drained nor waited for.
    func testAConnectionAdmittedAfterTheDrainStartedIsRefused() {
        let tracker = ConnectionTracker()
        let drained = Flag()
        let early = ConnectionTracker.Entry(channel: EmbeddedChannel()) { drained.set() }
        let (_, earlyOverLimit, earlyDraining) = tracker.admit(early, connectionsMax: 8)
        XCTAssertFalse(earlyOverLimit)
        XCTAssertFalse(earlyDraining)

        let waitFor = tracker.drainAll()
        XCTAssertEqual(waitFor.count, 1)
        XCTAssertTrue(drained.isSet, "the open connection was asked to drain")

        let late = ConnectionTracker.Entry(channel: EmbeddedChannel()) { XCTFail("a refused connection is not drained") }
        let (_, _, lateRefused) = tracker.admit(late, connectionsMax: 8)
        XCTAssertTrue(lateRefused, "admitted after the drain started: refused")
        XCTAssertEqual(tracker.count, 1, "only the early connection is tracked")
    }

    /// Beyond `connectionsMax`, a connection stays open only to hear why it is refused, and
    /// only while few do: past `refusalsPendingMax` of them, connections are closed at once,
    /// so a flood of unauthenticated connections holds no state. One closing makes room again.
    func testConnectionsBeyondTheLimitAreRefusedPolitelyThenClosedAtOnce() {
        let tracker = ConnectionTracker()
        let entry = { ConnectionTracker.Entry(channel: EmbeddedChannel()) {} }
        let limit = 2
        for _ in 0..<limit { XCTAssertFalse(tracker.admit(entry(), connectionsMax: limit).isOverLimit) }
        var pending: [Int] = []
        for _ in 0..<ConnectionTracker.refusalsPendingMax {
            let (id, isOverLimit, refused) = tracker.admit(entry(), connectionsMax: limit)
            XCTAssertTrue(isOverLimit)
            XCTAssertFalse(refused, "kept open to hear why")
            pending.append(id)
        }
        XCTAssertTrue(tracker.admit(entry(), connectionsMax: limit).refused, "past the pending refusals: closed at once")
        XCTAssertEqual(tracker.count, limit + ConnectionTracker.refusalsPendingMax)
        tracker.remove(pending[0])
        let (_, isOverLimit, refused) = tracker.admit(entry(), connectionsMax: limit)
        XCTAssertTrue(isOverLimit)
        XCTAssertFalse(refused)
    }
}

private final class Flag: @unchecked Sendable {
    private var value = false
    private let lock = NSLock()
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
