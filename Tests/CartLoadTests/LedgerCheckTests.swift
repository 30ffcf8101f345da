@testable import CartLoad
import CartDomain
import CartTypes
import XCTest

/// The checks of `cartload carts --mode verify`: each must catch the broken promise it names
/// and pass a history that keeps every promise.
final class LedgerCheckTests: XCTestCase {
    let cart = CartID("c1")
    let owner = UserID("ann")

    func created() -> CartEvent {
        CartEvent(cart: cart, seq: Seq(1), version: Version(1), timestamp: Timestamp(millisecondsSinceEpoch: 1),
                  change: .created(CartCreated(owner: owner)))
    }

    /// The history of `items` added in this order after the creation, seqs from 2.
    func history(_ items: [String], quantity: Int64 = 1) -> [CartEvent] {
        [created()] + items.enumerated().map { offset, item in
            CartEvent(cart: cart, seq: Seq(UInt64(offset + 2)), version: Version(UInt64(offset + 2)),
                      timestamp: Timestamp(millisecondsSinceEpoch: Int64(offset + 2)),
                      change: .itemAdded(CartItemAdded(actor: owner, line: CartLine(item: ItemID(item), quantity: quantity,
                                                                                        unitPrice: Money(minorUnits: 250)),
                                                       quantityAdded: quantity)))
        }
    }

    func ledger(_ adds: [(String, LedgerCart.Outcome)]) -> LedgerCart {
        LedgerCart(cart: cart, owner: owner, adds: adds.map { .init(item: ItemID($0.0), outcome: $0.1) })
    }

    func testAHistoryWithEveryAcknowledgedAddInOrderPasses() {
        let verdict = LedgerCheck.check(ledger([("a", .acknowledged), ("b", .acknowledged), ("c", .acknowledged)]),
                                        history: history(["a", "b", "c"]))
        XCTAssertEqual(verdict, LedgerVerdict())
    }

    func testALostAcknowledgedAddIsAViolation() {
        let verdict = LedgerCheck.check(ledger([("a", .acknowledged), ("b", .acknowledged), ("c", .acknowledged)]),
                                        history: history(["a", "c"]))
        XCTAssertEqual(verdict.violations.map(\.what), ["the acknowledged add of b is lost"])
    }

    func testALostCreationIsAViolation() {
        XCTAssertEqual(LedgerCheck.check(ledger([]), history: []).violations.map(\.what),
                       ["no history: the acknowledged creation is lost"])
    }

    func testAnAddAppliedTwiceIsAViolation() {
        let verdict = LedgerCheck.check(ledger([("a", .acknowledged), ("b", .acknowledged)]), history: history(["a", "b", "b"]))
        XCTAssertEqual(verdict.violations.map(\.what), ["the add of b is applied twice (again at seq 4)"])
        let doubled = LedgerCheck.check(ledger([("a", .acknowledged)]), history: history(["a"], quantity: 2))
        XCTAssertEqual(doubled.violations.count, 1, "a quantity of 2 is an add applied twice into one line")
    }

    func testAcknowledgedAddsOutOfOrderAreAViolation() {
        let verdict = LedgerCheck.check(ledger([("a", .acknowledged), ("b", .acknowledged), ("c", .acknowledged)]),
                                        history: history(["a", "c", "b"]))
        XCTAssertEqual(verdict.violations.map(\.what), ["the add of b is at seq 4, behind c, whose add was acknowledged after it"])
    }

    func testUnansweredAddsMayBeAppliedOnceAnywhereOrNotAtAll() {
        let adds = ledger([("a", .acknowledged), ("b", .unanswered), ("c", .acknowledged), ("d", .unanswered)])
        let verdict = LedgerCheck.check(adds, history: history(["a", "c", "b"]))
        XCTAssertEqual(verdict.violations, [])
        XCTAssertEqual(verdict.unansweredApplied, 1)
        XCTAssertEqual(verdict.unansweredAbsent, 1)
        XCTAssertEqual(LedgerCheck.check(adds, history: history(["a", "b", "c", "b"])).violations.map(\.what),
                       ["the add of b is applied twice (again at seq 5)"])
    }

    func testAnAddNobodyAskedForAndAGapInSeqsAreViolations() {
        XCTAssertEqual(LedgerCheck.check(ledger([("a", .acknowledged)]), history: history(["a", "x"])).violations.map(\.what),
                       ["seq 3 adds x, which the workload never asked for"])
        var gap = history(["a", "b"])
        gap.remove(at: 1)
        XCTAssertEqual(LedgerCheck.check(ledger([("a", .acknowledged), ("b", .acknowledged)]), history: gap).violations.map(\.what),
                       ["event 2 of the history has seq 3: a gap or a repeat"])
    }

    func testAReplicaCopyMustBeTheLeadersEventForEvent() {
        let leader = history(["a", "b"])
        XCTAssertNil(LedgerCheck.compare(replica: "node 2", events: leader, leader: leader, cart: cart))
        XCTAssertEqual(LedgerCheck.compare(replica: "node 2", events: Array(leader.prefix(2)), leader: leader, cart: cart)?.what,
                       "node 2 has 2 events, the leader 3")
        let other = history(["a", "c"])
        XCTAssertEqual(LedgerCheck.compare(replica: "node 3", events: other, leader: leader, cart: cart)?.what,
                       "node 3 has a different event at seq 3: CartItemAdded c v3 against the leader's CartItemAdded b v3")
    }
}
