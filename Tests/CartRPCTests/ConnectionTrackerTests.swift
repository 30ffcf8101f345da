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
        let (_, _, lateDraining) = tracker.admit(late, connectionsMax: 8)
        XCTAssertTrue(lateDraining, "admitted after the drain started: refused")
        XCTAssertEqual(tracker.count, 1, "only the early connection is tracked")
    }
}

private final class Flag: @unchecked Sendable {
    private var value = false
    private let lock = NSLock()
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
