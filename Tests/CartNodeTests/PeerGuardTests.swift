@testable import CartNode
import CartTestSupport
import CartTypes
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import XCTest

/// The concurrency cap in front of forwarded calls: a waiting call runs once an active call
/// to the same peer completes, however the two race.
final class PeerGuardTests: XCTestCase {
    private var group: MultiThreadedEventLoopGroup!

    override func setUp() {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    override func tearDown() {
        try? group.syncShutdownGracefully()
    }

    /// Admitting a call as "waiting" and parking it are two steps. Here the active call
    /// completes exactly between them (on the loop, while the caller is on another thread),
    /// promoting the waiting call before it parked. It must still run; it used to wait forever,
    /// holding its slot, and a breaker probe lost that way kept the breaker half-open.
    func testACallPromotedBeforeItParkedStillRuns() throws {
        let loop = group.next()
        let first = loop.makePromise(of: Int.self)
        let guards = try PeerGuard(logger: Logger(label: "peer-guard-test"), activeRequestsMax: 1, pendingRequestsMax: 1,
                                   beforeParking: {
                                       first.succeed(1)
                                       try? loop.submit {}.wait()  // the first call's completion has run
                                   })
        let one = guards.guarded(2, on: loop) { first.futureResult }
        let two = guards.guarded(2, on: loop) { loop.makeSucceededFuture(2) }
        XCTAssertEqual(try one.wait(), 1)
        XCTAssertEqual(try within(seconds: 5, two, on: loop), 2, "the promoted call ran")
    }

    /// Permits are numbered per peer: waiting calls to two peers can hold equal permits, and
    /// each must be resumed by a completion to its own peer.
    func testWaitingCallsToTwoPeersWithEqualPermitsEachRun() throws {
        let loop = group.next()
        let guards = try PeerGuard(logger: Logger(label: "peer-guard-test"), activeRequestsMax: 1, pendingRequestsMax: 1)
        let activeTo2 = loop.makePromise(of: Int.self), activeTo3 = loop.makePromise(of: Int.self)
        let a = guards.guarded(2, on: loop) { activeTo2.futureResult }
        let c = guards.guarded(3, on: loop) { activeTo3.futureResult }
        let b = guards.guarded(2, on: loop) { loop.makeSucceededFuture(20) }
        let d = guards.guarded(3, on: loop) { loop.makeSucceededFuture(30) }
        XCTAssertEqual(guards.admission.load(of: 2).pending, 1)
        XCTAssertEqual(guards.admission.load(of: 3).pending, 1)

        activeTo2.succeed(2)
        XCTAssertEqual(try a.wait(), 2)
        XCTAssertEqual(try within(seconds: 5, b, on: loop), 20, "node 2's waiting call ran after node 2's call completed")
        activeTo3.succeed(3)
        XCTAssertEqual(try c.wait(), 3)
        XCTAssertEqual(try within(seconds: 5, d, on: loop), 30, "node 3's waiting call ran after node 3's call completed")
    }

    /// `future`'s value, or a failure once `seconds` pass without one.
    private func within<T: Sendable>(seconds: Int64, _ future: EventLoopFuture<T>, on loop: any EventLoop) throws -> T {
        let bounded = loop.makePromise(of: T.self)
        future.cascade(to: bounded)
        let timeout = loop.scheduleTask(in: .seconds(seconds)) { bounded.fail(TestFailure("no result within \(seconds) s")) }
        defer { timeout.cancel() }
        return try bounded.futureResult.wait()
    }
}
