@testable import CartDomain
@testable import CartLoad
import CartTypes
import XCTest

/// The checkout part of `cartload carts --mode verify`: each check must catch the broken
/// promise it names, and pass items and carts that keep every promise.
final class StockCheckTests: XCTestCase {
    let beans = ItemID("beans")

    func cart(_ id: String, holding quantity: Int64?, _ status: CartStatus) -> Cart {
        var cart = Cart(id: CartID(id), owner: "ann", createdAt: Timestamp(millisecondsSinceEpoch: 1))
        if let quantity { cart.lines = [CartLine(item: beans, quantity: quantity, unitPrice: Money(minorUnits: 250))] }
        cart.status = status
        return cart
    }

    func ledger(_ id: String, _ quantity: Int64, _ outcome: CheckoutCart.Outcome) -> CheckoutCart {
        CheckoutCart(cart: CartID(id), item: beans, quantity: quantity, outcome: outcome)
    }

    func item(stock: Int64, reserved: Int64 = 0) -> [ItemID: Item] {
        [beans: Item(id: beans, name: "Beans", price: Money(minorUnits: 250), stock: stock, reserved: reserved)]
    }

    /// 25 units supplied: 3 + 2 in carts checked out, the refused cart's 4 back in stock, the
    /// unanswered checkout either way; 20 left.
    var kept: [(CheckoutCart, Cart)] {
        [(ledger("c1", 3, .completed), cart("c1", holding: 3, .checkedOut)),
         (ledger("c2", 4, .refused), cart("c2", holding: 4, .active)),
         (ledger("c3", 2, .unanswered), cart("c3", holding: 2, .checkedOut)),
         (ledger("c4", 1, .unanswered), cart("c4", holding: 1, .active))]
    }

    func testEveryUnitSoldOnceInACheckedOutCartPasses() {
        let scarce = [ScarceItem(item: beans, supplied: 25)]
        XCTAssertEqual(StockCheck.check(scarce, items: item(stock: 20), carts: kept), [])
    }

    func testAUnitSoldTwiceOrLostIsAViolation() {
        let scarce = [ScarceItem(item: beans, supplied: 25)]
        let twice = StockCheck.check(scarce, items: item(stock: 21), carts: kept)
        XCTAssertEqual(twice, [LedgerViolation(item: beans, "4 of its 25 units left the stock, but 5 are in checked-out carts")])
        let lost = StockCheck.check(scarce, items: item(stock: 19), carts: kept)
        XCTAssertEqual(lost.count, 1, "\(lost)")
    }

    func testUnitsLeftReservedOrStockBelowZeroAreViolations() {
        let scarce = [ScarceItem(item: beans, supplied: 25)]
        let held = StockCheck.check(scarce, items: item(stock: 18, reserved: 2), carts: kept)
        XCTAssertEqual(held, [LedgerViolation(item: beans, "2 units still reserved after every checkout settled")])
        let negative = StockCheck.check([ScarceItem(item: beans, supplied: nil)], items: item(stock: -1), carts: kept)
        XCTAssertEqual(negative, [LedgerViolation(item: beans, "stock -1 is below zero")])
        XCTAssertEqual(StockCheck.check(scarce, items: [:], carts: []), [LedgerViolation(item: beans, "not read back")])
    }

    func testACartThatContradictsItsCheckoutsAnswerIsAViolation() {
        let completedButActive = StockCheck.check([], items: [:], carts: [(ledger("c1", 3, .completed), cart("c1", holding: 3, .active))])
        XCTAssertEqual(completedButActive, [LedgerViolation(cart: "c1", "checkout completed, yet the cart is ACTIVE")])
        let refusedButSold = StockCheck.check([], items: [:], carts: [(ledger("c2", 1, .refused), cart("c2", holding: 1, .checkedOut))])
        XCTAssertEqual(refusedButSold, [LedgerViolation(cart: "c2", "checkout refused, yet the cart is CHECKED_OUT")])
        let stuck = StockCheck.check([], items: [:], carts: [(ledger("c3", 1, .unanswered), cart("c3", holding: 1, .checkingOut))])
        XCTAssertEqual(stuck.count, 1, "a checkout never settled")
        let wrongLine = StockCheck.check([], items: [:], carts: [(ledger("c4", 2, .completed), cart("c4", holding: 3, .checkedOut))])
        XCTAssertEqual(wrongLine, [LedgerViolation(cart: "c4", "holds 3 × beans; 2 were added")])
    }

    // An item whose restock went unanswered cannot be counted; the rest still is.
    func testAnUncountedItemIsCheckedOnlyForWhatDoesNotNeedItsSupply() {
        XCTAssertEqual(StockCheck.check([ScarceItem(item: beans, supplied: nil)], items: item(stock: 7), carts: kept), [])
    }
}
