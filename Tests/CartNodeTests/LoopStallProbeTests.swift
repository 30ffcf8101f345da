@testable import CartNode
import CartTestSupport
import Logging
import NIOPosix
import XCTest

/// The probe on each event loop: a loop that runs something for 400 ms without yielding is
/// counted (and logged); a loop that only waits is not.
final class LoopStallProbeTests: XCTestCase {
    func testABlockedLoopIsCountedAndAnIdleOneIsNot() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let metrics = NodeMetrics()
        let loop = group.next()
        let probe = LoopStallProbe.start(on: loop, metrics: metrics, logger: Logger(label: "test"))
        try await Task.sleep(for: .milliseconds(500))
        XCTAssertEqual(metrics.value(.loopStalls), 0, "an idle loop runs its probe on time")
        try await loop.submit { usleep(400_000) }.get()
        try await eventually(5, "the probe counts the stall once the loop is free again") {
            metrics.value(.loopStalls) >= 1
        }
        probe.cancel()
        try await group.shutdownGracefully()
    }
}
