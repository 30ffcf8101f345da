import CartDomain
import CartTypes
import Foundation
import XCTest

/// Properties over random command sequences from several users, one seed at a time.
/// Every run prints its seed; rerun one with `DOMAIN_SEED=<seed> swift test --filter PropertyTests`.
/// `DOMAIN_SEED_COUNT` and `DOMAIN_SEED_BASE` widen the sweep (tools/ci.d/50-domain-seeds).
final class PropertyTests: XCTestCase {
    private let commandsPerRun = 1_500
    private let codec = BinarySnapshotCodec()

    private var seeds: [UInt64] {
        if let fixed = ProcessInfo.processInfo.environment["DOMAIN_SEED"].flatMap(UInt64.init) { return [fixed] }
        let environment = ProcessInfo.processInfo.environment
        let count = environment["DOMAIN_SEED_COUNT"].flatMap(Int.init).map { min(max($0, 1), 10_000) } ?? 12
        let base = environment["DOMAIN_SEED_BASE"].flatMap(UInt64.init) ?? 0
        return (1...UInt64(count)).map { (base &+ $0) &* 0x9E37_79B9 }
    }

    /// One run: the commands in order, the events each accepted one produced (retries
    /// answered from the window excluded), and the state after each command.
    private struct Run {
        var commands: [(Command, RequestKey?, Timestamp)] = []
        var freshEvents: [Event] = []
        var state: PartitionState
    }

    private func execute(seed: UInt64, limits: DomainLimits, check: (PartitionState, [Event]) -> Void = { _, _ in }) -> Run {
        var generator = CommandGenerator(seed: seed)
        var run = Run(state: PartitionState(limits: limits))
        for step in 0..<commandsPerRun {
            let (command, key) = generator.next(for: run.state)
            let timestamp = Timestamp(millisecondsSinceEpoch: 1_000 + Int64(step))
            let isRetry = key.map { run.state.dedup.outcome(for: $0) != nil } ?? false
            let result = run.state.apply(command, at: timestamp, request: key)
            run.commands.append((command, key, timestamp))
            if !isRetry, case .success(let events) = result {
                run.freshEvents += events
                check(run.state, events)
            }
        }
        return run
    }

    private var smallLimits: DomainLimits {
        var limits = DomainLimits()
        limits.quantityMax = 10
        limits.itemsPerCartMax = 4
        limits.sharedUsersMax = 2
        limits.dedupEntriesMax = 50
        limits.historyEventsPerCartMax = 8
        limits.reservationsSettledMax = 5
        return limits
    }

    // Stock and reserved units are never negative, reserved units equal what held
    // reservations hold, and each cart's seqs are consecutive and versions strictly grow
    // from one accepted command to the next.
    func testStockStaysNonNegativeAndCartVersionsStrictlyIncrease() {
        for seed in seeds {
            print("PropertyTests seed \(seed)")
            var lastVersion: [CartID: Version] = [:]
            var lastSeq: [CartID: Seq] = [:]
            _ = execute(seed: seed, limits: smallLimits) { state, events in
                for item in state.items.values {
                    XCTAssertGreaterThanOrEqual(item.stock, 0, "seed \(seed)")
                    let held = state.reservations.values.filter { $0.status == .held }
                        .flatMap(\.lines).filter { $0.item == item.id }.reduce(0) { $0 + $1.quantity }
                    XCTAssertEqual(item.reserved, held, "seed \(seed): reserved units of \(item.id)")
                }
                var versionsThisCommand: [CartID: Version] = [:]
                for case .cart(let event) in events {
                    XCTAssertEqual(event.seq, (lastSeq[event.cart] ?? .zero).next, "seed \(seed): consecutive seqs")
                    lastSeq[event.cart] = event.seq
                    if let previous = versionsThisCommand[event.cart] {
                        XCTAssertEqual(event.version, previous, "seed \(seed): one version per command")
                    } else {
                        XCTAssertGreaterThan(event.version, lastVersion[event.cart] ?? .zero, "seed \(seed): versions grow")
                        versionsThisCommand[event.cart] = event.version
                    }
                    lastVersion[event.cart] = event.version
                }
            }
        }
    }

    // Applying only the events, from an empty state, rebuilds everything but the dedup
    // window (which is rebuilt from commands and carried by snapshots).
    func testReplayingEventsFromEmptyReproducesTheState() {
        for seed in seeds {
            print("PropertyTests seed \(seed)")
            let run = execute(seed: seed, limits: smallLimits)
            var replayed = PartitionState(limits: smallLimits)
            for event in run.freshEvents { replayed.apply(event: event) }
            var expected = run.state.snapshot()
            expected.dedup = []
            expected.counts = expected.actualCounts
            XCTAssertTrue(replayed.snapshot() == expected, "seed \(seed): replayed state differs")
        }
    }

    // A replica that restarts from a snapshot taken halfway and applies the rest of the log
    // ends equal to one that applied the whole log, down to the snapshot bytes.
    func testSnapshotPlusReplayOfTheRestEqualsFullReplay() throws {
        for seed in seeds {
            print("PropertyTests seed \(seed)")
            let run = execute(seed: seed, limits: smallLimits)
            var replica = PartitionState(limits: smallLimits)
            let half = run.commands.count / 2
            for (command, key, timestamp) in run.commands[..<half] { replica.apply(command, at: timestamp, request: key) }
            replica = try PartitionState(snapshotBytes: replica.encodedSnapshot(using: codec), using: codec)
            for (command, key, timestamp) in run.commands[half...] { replica.apply(command, at: timestamp, request: key) }
            XCTAssertTrue(replica == run.state, "seed \(seed): restored replica differs")
            XCTAssertTrue(try replica.encodedSnapshot(using: codec) == run.state.encodedSnapshot(using: codec), "seed \(seed): bytes differ")
        }
    }

    // The same seed twice gives identical snapshot bytes: no Dictionary order, clock or
    // randomness leaks into the state.
    func testTheSameSequenceGivesIdenticalSnapshotBytes() throws {
        for seed in seeds {
            print("PropertyTests seed \(seed)")
            let first = try execute(seed: seed, limits: smallLimits).state.encodedSnapshot(using: codec)
            let second = try execute(seed: seed, limits: smallLimits).state.encodedSnapshot(using: codec)
            XCTAssertTrue(first == second, "seed \(seed): bytes differ between runs")
        }
    }

    // After every accepted command, the unsettled checkouts the state serves from its index
    // are exactly those a scan of every cart finds (the query before the index), in cart id
    // order. The runs must both put carts into the index and settle them out of it.
    func testUnsettledCheckoutsFromTheIndexEqualAScanOfEveryCart() {
        var mostAtOnce = 0
        var settledOut = 0
        for seed in seeds {
            print("PropertyTests seed \(seed)")
            var previous: Set<CartID> = []
            _ = execute(seed: seed, limits: smallLimits) { state, events in
                let served = state.unsettledCheckouts()
                let scanned = scanForUnsettledCheckouts(state)
                let after = events.map(\.name).joined(separator: ", ")
                XCTAssertEqual(served.map(\.cart), scanned.map(\.cart), "seed \(seed): unsettled carts after \(after)")
                XCTAssertEqual(served.map(\.checkout), scanned.map(\.checkout), "seed \(seed): their records after \(after)")
                let now = Set(served.map(\.cart))
                settledOut += previous.subtracting(now).count
                mostAtOnce = max(mostAtOnce, now.count)
                previous = now
            }
        }
        XCTAssertGreaterThan(mostAtOnce, 1, "the runs never had two unsettled checkouts at once")
        XCTAssertGreaterThan(settledOut, 0, "the runs never settled a checkout")
    }

    // A state restored from a snapshot taken every few commands serves the same unsettled
    // checkouts: the index is rebuilt from the carts, since the snapshot bytes carry none.
    // It also equals the original, index included (`==` compares it), so the derived index
    // leaves equality meaning "same carts, items, users, reservations and dedup window".
    func testARestoredStateRebuildsTheUnsettledCheckoutIndex() throws {
        for seed in seeds {
            print("PropertyTests seed \(seed)")
            var generator = CommandGenerator(seed: seed)
            var state = PartitionState(limits: smallLimits)
            for step in 0..<commandsPerRun {
                let (command, key) = generator.next(for: state)
                state.apply(command, at: Timestamp(millisecondsSinceEpoch: 1_000 + Int64(step)), request: key)
                guard step % 25 == 0 else { continue }
                let restored = try PartitionState(snapshotBytes: state.encodedSnapshot(using: codec), using: codec)
                XCTAssertEqual(restored.unsettledCheckouts().map(\.cart), state.unsettledCheckouts().map(\.cart),
                               "seed \(seed), command \(step): unsettled carts")
                XCTAssertEqual(restored.unsettledCheckouts().map(\.checkout), state.unsettledCheckouts().map(\.checkout),
                               "seed \(seed), command \(step): their records")
                XCTAssertTrue(restored == state, "seed \(seed), command \(step): restored state differs")
            }
        }
    }

    /// The query as it was before the index: every cart, sorted by id.
    private func scanForUnsettledCheckouts(_ state: PartitionState) -> [(cart: CartID, checkout: CheckoutRecord)] {
        state.carts.values
            .compactMap { cart in cart.checkout.flatMap { $0.settled ? nil : (cart.id, $0) } }
            .sorted { $0.cart < $1.cart }
    }

    // The generator must reach the interesting paths, or the properties prove little.
    func testRandomRunsExerciseCheckoutsAndConflicts() {
        var names: Set<String> = []
        var errors: Set<UInt16> = []
        for seed in seeds {
            var generator = CommandGenerator(seed: seed)
            var state = PartitionState(limits: smallLimits)
            for step in 0..<commandsPerRun {
                let (command, key) = generator.next(for: state)
                switch state.apply(command, at: Timestamp(millisecondsSinceEpoch: Int64(step)), request: key) {
                case .success(let events): names.formUnion(events.map(\.name))
                case .failure(let error): errors.insert(error.code)
                }
            }
        }
        for name in ["CartCheckout", "CartCheckoutAborted", "CartCheckoutSettled", "StockReserved",
                     "ReservationCommitted", "StockReleased", "CartShared", "CartUnshared"] {
            XCTAssertTrue(names.contains(name), "no \(name) in the random runs")
        }
        for code: UInt16 in [2, 7, 8, 9, 10, 11, 12] {
            XCTAssertTrue(errors.contains(code), "no error \(code) in the random runs")
        }
    }
}
