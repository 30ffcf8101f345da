@testable import CartLoad
import CartAPI
import CartClient
import CartRPC
import CartRaft
import CartTypes
import CartWire
import Foundation
import NIOCore
import XCTest

/// Closed-loop workers against a real RPC server on loopback that answers every add.
final class ClosedLoopWorkerTests: XCTestCase {
    private var server: RPCServer?
    private var clients: [CartClient] = []
    private let served = Counter()

    override func setUp() async throws {
        var configuration = RPCServerConfiguration(port: 0, security: .plaintext, identity: "load-test-node")
        configuration.drainTimeoutMs = 200
        let server = RPCServer(configuration: configuration)
        server.register(.cartAddItem) { [served] request, _ in
            let count = served.increment()
            return CartWriteReply(cart: request.cart, version: Version(count), seq: Seq(count))
        }
        let port = try await server.start()
        self.server = server
        clients = (0..<2).map { _ in
            var configuration = CartClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: port)], tls: nil,
                                                        identity: "load-test")
            configuration.followLeaders = false
            return CartClient(configuration: configuration)
        }
    }

    override func tearDown() async throws {
        for client in clients { await client.shutdown() }
        await server?.shutdown()
    }

    private func workload() -> (LoadUsers, CartSlots) {
        let users = LoadUsers(names: ["load-user-0", "load-user-1"], clients: clients, items: ["sku-0", "sku-1", "sku-2"])
        return (users, CartSlots([.init(cart: "cart-1", owner: 0, sharedWith: 1)]))
    }

    // Story: four workers add back to back for a fifth of a second. Every add the server
    // answered is counted once in the meter, and the cart's slot knows the items added.
    func testWorkersRecordEveryAnsweredAddUntilTheirEnd() async throws {
        let (users, slots) = workload()
        let meter = LoadMeter(measureStartNanos: 0, measureEndNanos: .max)
        let end = LoadMeter.nowNanos() + 200_000_000
        try await within(30) {
            await withTaskGroup(of: Void.self) { group in
                for seed in 0..<4 {
                    let worker = ClosedLoopWorker(.addItem, users, slots, meter, endNanos: end, seed: UInt64(seed))
                    group.addTask { await worker.run() }
                }
            }
        }
        let state = meter.snapshot
        XCTAssertGreaterThan(state.total.calls, 0)
        XCTAssertEqual(state.total.calls, served.value, "one record per answer")
        XCTAssertEqual(state.total.errors, 0)
        XCTAssertEqual(state.byOperation["add"]?.calls, state.total.calls)
        XCTAssertFalse(slots.all[0].items.isEmpty)
    }

    // Story: a worker meant to run for a minute is cancelled after a few adds: it lets the
    // add in flight finish and returns instead of running on.
    func testACancelledWorkerStopsAfterItsOperationInFlight() async throws {
        let (users, slots) = workload()
        let meter = LoadMeter(measureStartNanos: 0, measureEndNanos: .max)
        let worker = ClosedLoopWorker(.addItem, users, slots, meter, endNanos: LoadMeter.nowNanos() + 60_000_000_000, seed: 1)
        let running = Task { await worker.run() }
        for _ in 0..<1_000 where served.value < 20 { try await Task.sleep(for: .milliseconds(10)) }
        XCTAssertGreaterThanOrEqual(served.value, 20)
        running.cancel()
        try await within(10) { await running.value }
        let afterStop = served.value
        try await Task.sleep(for: .milliseconds(100))
        XCTAssertEqual(served.value, afterStop, "no add after the worker returned")
        XCTAssertEqual(meter.snapshot.total.calls, afterStop)
    }

    // Story: the mix is drawn from the worker's own seeded generator: add-item mode only adds,
    // get mode only reads, and the default mix gives each operation about its share (10,000 draws, fixed seed).
    func testOperationsAreDrawnFromTheWorkersGeneratorInTheMixShares() {
        var random = SplitMix64(seed: 42)
        for _ in 0..<1_000 { XCTAssertEqual(CartOperation.pick(.addItem, using: &random), .add) }
        for _ in 0..<1_000 { XCTAssertEqual(CartOperation.pick(.get, using: &random), .get) }
        var counts: [CartOperation: Int] = [:]
        for _ in 0..<10_000 { counts[CartOperation.pick(.mix, using: &random), default: 0] += 1 }
        for operation in CartOperation.allCases {
            XCTAssertEqual(Double(counts[operation] ?? 0), Double(operation.mixPercent * 100), accuracy: 200, "\(operation)")
        }
    }
}

/// A count shared with the server's handlers.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count: UInt64 = 0

    var value: UInt64 { lock.withLock { count } }

    func increment() -> UInt64 {
        lock.withLock {
            count += 1
            return count
        }
    }
}

/// Runs `body`, failing if it takes longer than `seconds`: every wait in these tests is bounded.
func within(_ seconds: Double, _ body: @escaping @Sendable () async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Bool.self) { group in
        group.addTask {
            try await body()
            return true
        }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            return false
        }
        let finished = try await group.next() ?? false
        group.cancelAll()
        if !finished { XCTFail("did not finish within \(seconds) s") }
    }
}

/// Where the load runs: the users' clients and the open loop's workers on the same few loops.
final class LoadLoopsTests: XCTestCase {
    // Story: an open-loop operation runs on one of the load loops and calls a client whose
    // connections live on the same loops, so its answer needs no hop to a foreign thread.
    func testTheUsersClientsAndTheOpenLoopWorkersShareTheLoadLoops() {
        let options = CartLoadOptions(endpoints: [Endpoint(host: "127.0.0.1", port: 7401)], tls: nil, identity: .devIdentities,
                                       namePrefix: "load-test")
        let configuration = LoadUsers.configuration(options, token: "user:load-user-0")
        XCTAssertTrue(configuration.eventLoopGroup === LoadLoops.group)
        let loops = EventLoopTaskExecutor.forEachLoop(of: LoadLoops.group)
        XCTAssertEqual(loops.count, max(1, System.coreCount / 2))
        let clientLoop = configuration.eventLoopGroup.next()
        XCTAssertTrue(loops.contains { $0.loop === clientLoop })
    }
}
