import CartDomain
import CartTypes
import XCTest

/// Retried client requests get their original answer from the dedup window.
final class IdempotencyTests: XCTestCase {
    private let key = RequestKey(client: ClientID(7), request: RequestID(1))

    // alice's add-item times out and her client retries it: the retry returns the original
    // CartItemAdded (same seq and version) and the quantity is not doubled.
    func testARetriedSuccessReturnsTheOriginalEventsAndAppliesOnce() {
        var f = DomainFixture()
        f.cartOfAlice()
        let add = Command.addItem(AddItem(cart: "c1", actor: "alice", item: "a", quantity: 2, unitPrice: .zero))
        let first = f.accept(add, request: key)
        let before = f.state
        let retry = f.accept(add, request: key)
        XCTAssertEqual(retry, first)
        XCTAssertEqual(f.state, before, "the retry changed nothing")
        XCTAssertEqual(f.cart("c1").line(for: "a")?.quantity, 2)
    }

    // The node publishes an entry's events only when the entry was applied, not when the
    // window answered it: `applyEntry` says which.
    func testApplyEntrySaysWhenTheWindowAnswered() {
        var f = DomainFixture()
        f.cartOfAlice()
        let add = CommandEnvelope(.addItem(AddItem(cart: "c1", actor: "alice", item: "a", quantity: 2, unitPrice: .zero)),
                                  at: Timestamp(millisecondsSinceEpoch: 1), request: key)
        let first = f.state.applyEntry(add)
        let retry = f.state.applyEntry(add)
        XCTAssertFalse(first.repeated)
        XCTAssertTrue(retry.repeated)
        XCTAssertEqual(retry.result, first.result)
    }

    // A request refused with a version conflict is retried after another change happened:
    // the client still gets the original conflict, not a second attempt.
    func testARetriedFailureReturnsTheOriginalError() {
        var f = DomainFixture()
        f.cartOfAlice(items: ["a"])
        let stale = Command.setQuantity(SetQuantity(cart: "c1", actor: "alice", item: "a", quantity: 3, expectedVersion: Version(1)))
        XCTAssertEqual(f.run(stale, request: key).failure, .versionConflict(current: Version(2)))
        f.accept(.addItem(AddItem(cart: "c1", actor: "alice", item: "b", quantity: 1, unitPrice: .zero)))
        XCTAssertEqual(f.run(stale, request: key).failure, .versionConflict(current: Version(2)))
    }

    // Request keys are chosen by clients. A key already used, sent again with another
    // command (another user acting, another cart, another argument), is refused as an invalid
    // argument: it neither gets the first command's outcome (another user's cart version, or
    // a success for something never applied) nor applies. The key's entry stays as it was,
    // so the real retry still gets its answer, also after a snapshot.
    func testAKeyReusedForAnotherCommandIsRefusedAndTheRetryStillAnswered() throws {
        var f = DomainFixture()
        f.cartOfAlice()
        f.accept(.shareCart(ShareCart(cart: "c1", actor: "alice", users: ["bob"])))
        let add = Command.addItem(AddItem(cart: "c1", actor: "alice", item: "a", quantity: 2, unitPrice: .zero))
        let first = f.accept(add, request: key)
        let before = f.state
        let others: [Command] = [
            .addItem(AddItem(cart: "c1", actor: "bob", item: "a", quantity: 2, unitPrice: .zero)),
            .addItem(AddItem(cart: "c1", actor: "alice", item: "a", quantity: 3, unitPrice: .zero)),
            .addItem(AddItem(cart: "c1", actor: "alice", item: "b", quantity: 2, unitPrice: .zero)),
            .unshareCart(UnshareCart(cart: "c1", actor: "alice", user: "bob")),
            .createCart(CreateCart(cart: "c2", owner: "alice")),
        ]
        for other in others {
            guard case .failure(.invalidArgument(let message)) = f.run(other, request: key) else {
                return XCTFail("\(other) under a used key was not refused")
            }
            XCTAssertTrue(message.contains("already used"), message)
        }
        XCTAssertEqual(f.state, before, "nothing applied, nothing recorded")
        // The price is the leader's, not the client's: a retry priced anew is still the retry.
        let repriced = Command.addItem(AddItem(cart: "c1", actor: "alice", item: "a", quantity: 2, unitPrice: Money(minorUnits: 999)))
        XCTAssertEqual(f.accept(repriced, request: key), first)
        var restored = try PartitionState(snapshotBytes: f.state.encodedSnapshot(using: BinarySnapshotCodec()), using: BinarySnapshotCodec())
        XCTAssertEqual(try restored.apply(add, at: Timestamp(millisecondsSinceEpoch: 1), request: key).get(), first)
        XCTAssertNotNil(restored.apply(others[0], at: Timestamp(millisecondsSinceEpoch: 1), request: key).failure)
    }

    // The same request id from two clients is two requests.
    func testRequestIdsAreScopedByClient() {
        var f = DomainFixture()
        f.cartOfAlice()
        let add = Command.addItem(AddItem(cart: "c1", actor: "alice", item: "a", quantity: 1, unitPrice: .zero))
        f.accept(add, request: RequestKey(client: ClientID(1), request: RequestID(1)))
        f.accept(add, request: RequestKey(client: ClientID(2), request: RequestID(1)))
        XCTAssertEqual(f.cart("c1").line(for: "a")?.quantity, 2)
    }

    // The window holds dedupEntriesMax outcomes and forgets the oldest first: a retry of the
    // oldest request after two newer ones is applied again (documented bound).
    func testTheWindowIsBoundedAndForgetsTheOldestFirst() {
        var limits = DomainLimits()
        limits.dedupEntriesMax = 2
        var f = DomainFixture(limits: limits)
        f.cartOfAlice()
        let keys = (1...3).map { RequestKey(client: ClientID(1), request: RequestID($0)) }
        for k in keys {
            f.accept(.addItem(AddItem(cart: "c1", actor: "alice", item: "a", quantity: 1, unitPrice: .zero)), request: k)
        }
        XCTAssertEqual(f.state.dedup.entries.map(\.key), [keys[1], keys[2]])
        XCTAssertNil(f.state.dedup.outcome(for: keys[0]))
        f.accept(.addItem(AddItem(cart: "c1", actor: "alice", item: "a", quantity: 1, unitPrice: .zero)), request: keys[0])
        XCTAssertEqual(f.cart("c1").line(for: "a")?.quantity, 4)
        XCTAssertEqual(f.state.dedup.entries.map(\.key), [keys[2], keys[0]])
    }

    // A node restarted from a snapshot still answers retries of requests applied before it.
    func testTheWindowSurvivesASnapshot() throws {
        var f = DomainFixture()
        f.cartOfAlice()
        let add = Command.addItem(AddItem(cart: "c1", actor: "alice", item: "a", quantity: 1, unitPrice: .zero))
        let first = f.accept(add, request: key)
        var restored = try PartitionState(snapshotBytes: f.state.encodedSnapshot(using: BinarySnapshotCodec()), using: BinarySnapshotCodec())
        XCTAssertEqual(restored, f.state)
        XCTAssertEqual(try restored.apply(add, at: Timestamp(millisecondsSinceEpoch: 1), request: key).get(), first)
        XCTAssertEqual(restored.carts["c1"]?.line(for: "a")?.quantity, 1)
    }

    // Under load the window is as long as the retention, not as a count: a client retrying
    // 29 s after its request got through (thousands of other requests since) gets the
    // original answer; a retry of a request applied more than 30 s before the newest
    // command is applied again, and the window no longer holds the expired keys.
    func testOutcomesAreKeptForTheRetentionAndThenForgotten() {
        var limits = DomainLimits()
        XCTAssertEqual(limits.dedupRetentionMs, 30_000)
        limits.dedupEntriesMax = 100_000
        var f = DomainFixture(limits: limits)
        f.cartOfAlice()
        let add = Command.addItem(AddItem(cart: "c1", actor: "alice", item: "a", quantity: 1, unitPrice: .zero))
        let first = f.accept(add, request: key)
        let start = f.nowMs
        // 20,000 other requests over the next 29 s: twice what a window of 10,000 held.
        for n in 1...20_000 {
            f.nowMs = start + Int64(n) * 29_000 / 20_000 - 1
            f.accept(.setQuantity(SetQuantity(cart: "c1", actor: "alice", item: "a", quantity: Int64(n % 7 + 1))),
                     request: RequestKey(client: ClientID(8), request: RequestID(UInt64(n))))
        }
        XCTAssertEqual(f.state.dedup.count, 20_001)
        XCTAssertEqual(f.run(add, request: key), .success(first), "a retry 29 s later is answered from the window")

        // 30 s and 1 ms after the first request: it and the requests of its first
        // millisecond are forgotten, nothing younger is.
        f.nowMs = start + 30_000
        f.accept(.setQuantity(SetQuantity(cart: "c1", actor: "alice", item: "a", quantity: 9)),
                 request: RequestKey(client: ClientID(9), request: RequestID(1)))
        XCTAssertNil(f.state.dedup.outcome(for: key))
        XCTAssertNotNil(f.state.dedup.outcome(for: RequestKey(client: ClientID(8), request: RequestID(2))))
        XCTAssertEqual(f.state.dedup.oldestAppliedAt, Timestamp(millisecondsSinceEpoch: start + 1))
        XCTAssertEqual(f.state.dedup.forgottenEarly, 0)
        let again = f.accept(add, request: key)
        XCTAssertNotEqual(again, first, "forgotten: applied again")
        XCTAssertEqual(f.cart("c1").line(for: "a")?.quantity, 10)
    }

    // The capacity bounds memory whatever the retention: past it the oldest is forgotten
    // even if it is younger than the retention, and the window counts that.
    func testTheCapacityForgetsYoungEntriesAndCountsThem() {
        var limits = DomainLimits()
        limits.dedupEntriesMax = 3
        var f = DomainFixture(limits: limits)
        f.cartOfAlice()
        let keys = (1...5).map { RequestKey(client: ClientID(1), request: RequestID($0)) }
        for k in keys {
            f.accept(.addItem(AddItem(cart: "c1", actor: "alice", item: "a", quantity: 1, unitPrice: .zero)), request: k)
        }
        XCTAssertEqual(f.state.dedup.entries.map(\.key), Array(keys[2...]))
        XCTAssertEqual(f.state.dedup.forgottenEarly, 2)
        // Forgotten by age, not early: not counted.
        f.nowMs += 60_000
        f.accept(.createCart(CreateCart(cart: "c2", owner: "alice")), request: RequestKey(client: ClientID(2), request: RequestID(1)))
        XCTAssertEqual(f.state.dedup.count, 1)
        XCTAssertEqual(f.state.dedup.forgottenEarly, 2)
    }

    // A leader whose clock is behind the previous one's stamps older times: measured from
    // the command being applied, nothing is forgotten early because of it.
    func testAClockThatGoesBackKeepsEntriesLonger() {
        var limits = DomainLimits()
        limits.dedupRetentionMs = 1_000
        var f = DomainFixture(limits: limits)
        f.cartOfAlice()
        let add = Command.addItem(AddItem(cart: "c1", actor: "alice", item: "a", quantity: 1, unitPrice: .zero))
        let first = f.accept(add, request: key)
        f.nowMs -= 5_000
        f.accept(.createCart(CreateCart(cart: "c2", owner: "alice")), request: RequestKey(client: ClientID(2), request: RequestID(1)))
        XCTAssertEqual(f.run(add, request: key), .success(first))
        f.nowMs += 6_000
        f.accept(.createCart(CreateCart(cart: "c3", owner: "alice")), request: RequestKey(client: ClientID(2), request: RequestID(2)))
        XCTAssertNil(f.state.dedup.outcome(for: key), "1,000 ms past the first request by the newest command")
    }

    // Replicas restored from a snapshot at any point decide every later retry as the replica
    // that applied the whole log does: random keys (some retried), times that jump forwards
    // and backwards (leaders' clocks), a short retention and a small capacity, with a
    // snapshot taken and restored every few commands and compared, window and bytes.
    func testTheWindowDecidesAlikeAfterAnySnapshot() throws {
        for seed in [UInt64(1), 2, 3, 0xC0FFEE] {
            var random = SeededRandom(seed: seed)
            var limits = DomainLimits()
            limits.dedupEntriesMax = 24
            limits.dedupRetentionMs = 200
            var whole = DomainFixture(limits: limits)
            whole.cartOfAlice(items: ["a"])
            var restored = whole.state
            var used: [RequestKey] = []
            let codec = BinarySnapshotCodec()
            for step in 0..<2_000 {
                let key = used.isEmpty || random.chance(70) ? RequestKey(client: ClientID(random.next() % 4), request: RequestID(UInt64(step)))
                    : random.pick(used)
                used.append(key)
                whole.nowMs += Int64.random(in: -40...60, using: &random)
                let command = Command.setQuantity(SetQuantity(cart: "c1", actor: "alice", item: "a", quantity: Int64(key.request.rawValue % 5 + 1)))
                let time = Timestamp(millisecondsSinceEpoch: whole.nowMs)
                let expected = whole.state.apply(command, at: time, request: key)
                XCTAssertEqual(restored.apply(command, at: time, request: key), expected, "seed \(seed) step \(step)")
                if random.chance(10) {
                    restored = try PartitionState(snapshotBytes: restored.encodedSnapshot(using: codec), using: codec)
                }
                XCTAssertEqual(restored.dedup, whole.state.dedup, "seed \(seed) step \(step)")
            }
            XCTAssertEqual(try restored.encodedSnapshot(using: codec), try whole.state.encodedSnapshot(using: codec), "seed \(seed)")
            XCTAssertGreaterThan(whole.state.dedup.forgottenEarly, 0, "seed \(seed): the capacity was reached")
        }
    }
}
