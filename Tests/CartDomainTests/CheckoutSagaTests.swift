import CartDomain
import CartTypes
import XCTest

/// The checkout saga across a cart partition and two item partitions, driven by hand the
/// way the node's coordinator drives it (Saga.md).
final class CheckoutSagaTests: XCTestCase {
    /// Cart "c1" (alice) on one partition holding a×2 and b×1; item "a" (stock 5) on one item
    /// partition and item "b" (stock `bStock`) on another.
    private func setUp(bStock: Int64) -> (cart: DomainFixture, itemsA: DomainFixture, itemsB: DomainFixture) {
        var cart = DomainFixture()
        cart.cartOfAlice(items: ["a", "b"])
        cart.accept(.setQuantity(SetQuantity(cart: "c1", actor: "alice", item: "a", quantity: 2)))
        var itemsA = DomainFixture()
        itemsA.catalogue(["a": 5])
        var itemsB = DomainFixture()
        itemsB.catalogue(["b": bStock])
        return (cart, itemsA, itemsB)
    }

    // Begin → reserve on both item partitions → complete → commit on both → settle.
    // The stock is sold, the cart is final, nothing is owed.
    func testHappyCheckoutReservesCommitsAndSettles() {
        var (cart, itemsA, itemsB) = setUp(bStock: 1)
        let started = cart.accept(.beginCheckout(BeginCheckout(cart: "c1", actor: "alice", checkout: "k1")))
        guard case .cart(let event) = started.first, case .checkoutStarted(let begin) = event.change else {
            return XCTFail("expected CartCheckoutStarted, got \(started)")
        }
        XCTAssertEqual(begin.lines, [StockLine(item: "a", quantity: 2), StockLine(item: "b", quantity: 1)])
        XCTAssertEqual(begin.total, Money(minorUnits: 300))
        XCTAssertEqual(cart.cart("c1").status, .checkingOut)
        XCTAssertEqual(cart.state.unsettledCheckouts().map(\.cart), ["c1"])

        itemsA.accept(.reserveStock(ReserveStock(checkout: "k1", lines: [begin.lines[0]])))
        itemsB.accept(.reserveStock(ReserveStock(checkout: "k1", lines: [begin.lines[1]])))
        XCTAssertEqual(itemsA.item("a").stock, 3)
        XCTAssertEqual(itemsA.item("a").reserved, 2)
        XCTAssertEqual(itemsB.item("b").stock, 0)

        XCTAssertEqual(cart.accept(.completeCheckout(CompleteCheckout(cart: "c1", checkout: "k1"))).map(\.name), ["CartCheckout"])
        itemsA.accept(.commitReservation(CommitReservation(checkout: "k1")))
        itemsB.accept(.commitReservation(CommitReservation(checkout: "k1")))
        cart.accept(.settleCheckout(SettleCheckout(cart: "c1", checkout: "k1")))

        XCTAssertEqual(itemsA.item("a"), Item(id: "a", name: "Item a", price: Money(minorUnits: 100), stock: 3, reserved: 0))
        XCTAssertEqual(itemsB.item("b").reserved, 0)
        XCTAssertEqual(cart.cart("c1").status, .checkedOut)
        XCTAssertTrue(cart.state.unsettledCheckouts().isEmpty)
    }

    // b has no stock: its partition refuses the reservation naming b, nothing is reserved
    // there; the coordinator aborts the cart and releases a. All stock is back, and the cart
    // is editable again and can be checked out with a new checkout id once settled.
    func testShortItemIsNamedAndCompensationReturnsEveryUnit() {
        var (cart, itemsA, itemsB) = setUp(bStock: 0)
        cart.accept(.beginCheckout(BeginCheckout(cart: "c1", actor: "alice", checkout: "k1")))
        itemsA.accept(.reserveStock(ReserveStock(checkout: "k1", lines: [StockLine(item: "a", quantity: 2)])))
        itemsB.refuse(.reserveStock(ReserveStock(checkout: "k1", lines: [StockLine(item: "b", quantity: 1)])),
                      with: .insufficientStock(item: "b", available: 0))

        let reason = DomainError.insufficientStock(item: "b", available: 0).message
        cart.accept(.abortCheckout(AbortCheckout(cart: "c1", checkout: "k1", reason: reason)))
        itemsA.accept(.releaseStock(ReleaseStock(checkout: "k1")))
        itemsB.accept(.releaseStock(ReleaseStock(checkout: "k1")))
        XCTAssertEqual(cart.cart("c1").status, .active)
        XCTAssertEqual(itemsA.item("a").stock, 5)
        XCTAssertEqual(itemsA.item("a").reserved, 0)

        cart.refuse(.beginCheckout(BeginCheckout(cart: "c1", actor: "alice", checkout: "k2")), with: .checkoutUnsettled("k1"))
        cart.accept(.settleCheckout(SettleCheckout(cart: "c1", checkout: "k1")))
        cart.refuse(.beginCheckout(BeginCheckout(cart: "c1", actor: "alice", checkout: "k1")), with: .checkoutAborted("k1"))
        cart.accept(.addItem(AddItem(cart: "c1", actor: "alice", item: "a", quantity: 1, unitPrice: .zero)))
        cart.accept(.beginCheckout(BeginCheckout(cart: "c1", actor: "alice", checkout: "k2")))
    }

    // Within one partition a reservation is all or nothing: a is available but b is short,
    // so neither is reserved, and the error names b.
    func testReservationIsAllOrNothingWithinAPartition() {
        var items = DomainFixture()
        items.catalogue(["a": 5, "b": 1, "c": 0])
        items.refuse(.reserveStock(ReserveStock(checkout: "k1", lines: [
            StockLine(item: "c", quantity: 1), StockLine(item: "a", quantity: 2), StockLine(item: "b", quantity: 2),
        ])), with: .insufficientStock(item: "b", available: 1))
        XCTAssertEqual(items.item("a").stock, 5)
        items.refuse(.reserveStock(ReserveStock(checkout: "k1", lines: [StockLine(item: "zz", quantity: 1)])),
                     with: .itemNotFound("zz"))
        items.refuse(.reserveStock(ReserveStock(checkout: "k1", lines: [
            StockLine(item: "a", quantity: 1), StockLine(item: "a", quantity: 1),
        ])), with: .invalidArgument("item a appears twice"))
    }

    // The coordinator crashed and retries every step: each repeat succeeds with no events
    // and nothing is reserved or committed twice.
    func testEveryStepIsIdempotentByCheckoutId() {
        var (cart, itemsA, _) = setUp(bStock: 1)
        cart.accept(.beginCheckout(BeginCheckout(cart: "c1", actor: "alice", checkout: "k1")))
        XCTAssertEqual(cart.accept(.beginCheckout(BeginCheckout(cart: "c1", actor: "alice", checkout: "k1"))), [])
        let reserve = Command.reserveStock(ReserveStock(checkout: "k1", lines: [StockLine(item: "a", quantity: 2)]))
        itemsA.accept(reserve)
        XCTAssertEqual(itemsA.accept(reserve), [])
        XCTAssertEqual(itemsA.item("a").stock, 3)
        cart.accept(.completeCheckout(CompleteCheckout(cart: "c1", checkout: "k1")))
        XCTAssertEqual(cart.accept(.completeCheckout(CompleteCheckout(cart: "c1", checkout: "k1"))), [])
        itemsA.accept(.commitReservation(CommitReservation(checkout: "k1")))
        XCTAssertEqual(itemsA.accept(.commitReservation(CommitReservation(checkout: "k1"))), [])
        XCTAssertEqual(itemsA.accept(reserve), [], "a reserve retried after commit changes nothing")
        XCTAssertEqual(itemsA.item("a").stock, 3)
        XCTAssertEqual(itemsA.item("a").reserved, 0)
        itemsA.refuse(.releaseStock(ReleaseStock(checkout: "k1")), with: .reservationCommitted("k1"))
        cart.accept(.settleCheckout(SettleCheckout(cart: "c1", checkout: "k1")))
        XCTAssertEqual(cart.accept(.settleCheckout(SettleCheckout(cart: "c1", checkout: "k1"))), [])
    }

    // The coordinator aborted before its ReserveStock reached b's partition; the release
    // arrives first and leaves a tombstone, so the delayed reservation is refused and never
    // holds stock that nobody would release.
    func testAReservationArrivingAfterItsReleaseIsRefused() {
        var items = DomainFixture()
        items.catalogue(["b": 3])
        let released = items.accept(.releaseStock(ReleaseStock(checkout: "k1")))
        XCTAssertEqual(released.map(\.name), ["StockReleased"])
        items.refuse(.reserveStock(ReserveStock(checkout: "k1", lines: [StockLine(item: "b", quantity: 1)])),
                     with: .reservationReleased("k1"))
        items.refuse(.commitReservation(CommitReservation(checkout: "k1")), with: .reservationReleased("k1"))
        items.refuse(.commitReservation(CommitReservation(checkout: "k9")), with: .reservationNotFound("k9"))
        XCTAssertEqual(items.item("b").stock, 3)
    }

    // Nothing changes while checking out or after checkout; saga steps must name the cart's
    // current checkout and respect its outcome.
    func testNothingChangesWhileCheckingOutOrAfterCheckout() {
        var (cart, _, _) = setUp(bStock: 1)
        cart.refuse(.completeCheckout(CompleteCheckout(cart: "c1", checkout: "k1")), with: .checkoutMismatch(current: nil))
        cart.accept(.beginCheckout(BeginCheckout(cart: "c1", actor: "alice", checkout: "k1")))
        let edit = Command.addItem(AddItem(cart: "c1", actor: "alice", item: "c", quantity: 1, unitPrice: .zero))
        cart.refuse(edit, with: .cartClosed(.checkingOut))
        cart.refuse(.shareCart(ShareCart(cart: "c1", actor: "alice", users: ["bob"])), with: .cartClosed(.checkingOut))
        cart.refuse(.beginCheckout(BeginCheckout(cart: "c1", actor: "alice", checkout: "k2")), with: .cartClosed(.checkingOut))
        cart.refuse(.completeCheckout(CompleteCheckout(cart: "c1", checkout: "k2")), with: .checkoutMismatch(current: "k1"))
        cart.refuse(.settleCheckout(SettleCheckout(cart: "c1", checkout: "k1")), with: .checkoutUndecided("k1"))
        cart.accept(.completeCheckout(CompleteCheckout(cart: "c1", checkout: "k1")))
        cart.refuse(.abortCheckout(AbortCheckout(cart: "c1", checkout: "k1", reason: "late")), with: .checkoutCompleted("k1"))
        cart.refuse(edit, with: .cartClosed(.checkedOut))
        cart.refuse(.removeItem(RemoveItem(cart: "c1", actor: "alice", item: "a")), with: .cartClosed(.checkedOut))
        cart.refuse(.unshareCart(UnshareCart(cart: "c1", actor: "alice", user: "bob")), with: .cartClosed(.checkedOut))
    }

    // An empty cart has nothing to check out.
    func testAnEmptyCartCannotBeCheckedOut() {
        var f = DomainFixture()
        f.cartOfAlice()
        f.refuse(.beginCheckout(BeginCheckout(cart: "c1", actor: "alice", checkout: "k1")), with: .cartEmpty)
    }

    // Many checkouts compete for the last 3 units of an item: exactly three single-unit
    // reservations win, the rest are refused, and stock ends at zero, never below.
    func testCompetingCheckoutsNeverDriveStockNegative() {
        var items = DomainFixture()
        items.catalogue(["last": 3])
        var won = 0
        for n in 0..<10 {
            let result = items.run(.reserveStock(ReserveStock(checkout: CheckoutID("k\(n)"), lines: [StockLine(item: "last", quantity: 1)])))
            if case .success = result { won += 1 } else {
                XCTAssertEqual(result.failure, .insufficientStock(item: "last", available: 0))
            }
        }
        XCTAssertEqual(won, 3)
        XCTAssertEqual(items.item("last").stock, 0)
        XCTAssertEqual(items.item("last").reserved, 3)
    }

    // Held reservations are bounded; settled ones are remembered up to a limit, oldest first
    // forgotten.
    func testReservationRecordsAreBounded() {
        var limits = DomainLimits()
        limits.reservationsHeldMax = 2
        limits.reservationsSettledMax = 2
        var items = DomainFixture(limits: limits)
        items.catalogue(["a": 100])
        let line = [StockLine(item: "a", quantity: 1)]
        items.accept(.reserveStock(ReserveStock(checkout: "k1", lines: line)))
        items.accept(.reserveStock(ReserveStock(checkout: "k2", lines: line)))
        items.refuse(.reserveStock(ReserveStock(checkout: "k3", lines: line)), with: .tooManyReservations(max: 2))
        items.accept(.releaseStock(ReleaseStock(checkout: "k1")))
        items.accept(.commitReservation(CommitReservation(checkout: "k2")))
        items.accept(.releaseStock(ReleaseStock(checkout: "k3")))
        XCTAssertNil(items.state.reservations["k1"], "the oldest settled record is forgotten")
        XCTAssertEqual(items.state.reservations["k2"]?.status, .committed)
        XCTAssertEqual(items.state.reservations["k3"]?.status, .released)
        XCTAssertEqual(items.item("a").stock, 99)
    }
}
