import CartRPC
import CartTestSupport
import CartWire
import NIOConcurrencyHelpers
import NIOCore
import XCTest

/// A connection's unary calls share one deadline timer; each call must still end at its own
/// deadline, whatever order the calls came in.
final class UnaryDeadlineTests: XCTestCase {
    // Story: on one connection a call with a long timeout starts first, then one with a short
    // timeout (an earlier deadline than the timer was armed for), then one the server answers
    // at once. The short one fails first, the long one later, and the answered one succeeds.
    func testCallsOnOneConnectionEachEndAtTheirOwnDeadline() async throws {
        let bed = try TestBed()
        let probe = HandlerProbe()
        let server = try await bed.startServer(register: { TestMethods.register(on: $0, probe: probe) })
        let client = bed.client(server) { $0.connectionsPerEndpoint = 1 }
        _ = try await client.call(.echo, bytes("connect"), timeout: .seconds(5))
        let failures = NIOLockedValueBox<[String]>([])
        try await within(30, "the three calls") {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    _ = await assertRPCError(.deadlineExceeded) {
                        try await client.call(TestMethods.hang, bytes("long"), timeout: .milliseconds(1_500))
                    }
                    failures.withLockedValue { $0.append("long") }
                }
                try await eventually(10, "the long call reaches the server") { probe.startedCount == 1 }
                group.addTask {
                    _ = await assertRPCError(.deadlineExceeded) {
                        try await client.call(TestMethods.hang, bytes("short"), timeout: .milliseconds(100))
                    }
                    failures.withLockedValue { $0.append("short") }
                }
                group.addTask {
                    let reply = try await client.call(.echo, bytes("quick"), timeout: .seconds(10))
                    XCTAssertEqual(reply, bytes("quick"))
                }
                try await group.waitForAll()
            }
        }
        XCTAssertEqual(failures.withLockedValue { $0 }, ["short", "long"])
        await client.shutdown()
        await server.shutdown()
    }
}
