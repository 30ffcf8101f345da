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
}
