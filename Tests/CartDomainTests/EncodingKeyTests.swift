import CartDomain
import CartTypes
import XCTest

/// Every command, event, error and snapshot encodes with integer field numbers only, as the
/// wire's binary encoding requires.
final class EncodingKeyTests: XCTestCase {
    // A partition that has seen every kind of command (accepted and refused, with request
    // keys) produces a snapshot, events and errors whose every key is numbered.
    func testEveryEncodedKeyHasAnIntegerFieldNumber() {
        var f = DomainFixture()
        var events: [Event] = []
        var commands: [Command] = []
        func run(_ command: Command) {
            commands.append(command)
            if case .success(let produced) = f.run(command, request: RequestKey(client: 1, request: RequestID(UInt64(commands.count)))) {
                events += produced
            }
        }
        run(.createCart(CreateCart(cart: "c1", owner: "alice")))
        run(.addItem(AddItem(cart: "c1", actor: "alice", item: "a", quantity: 2, unitPrice: Money(minorUnits: 5), expectedVersion: Version(1))))
        run(.setQuantity(SetQuantity(cart: "c1", actor: "alice", item: "a", quantity: 3)))
        run(.addItem(AddItem(cart: "c1", actor: "alice", item: "b", quantity: 1, unitPrice: .zero)))
        run(.removeItem(RemoveItem(cart: "c1", actor: "alice", item: "b")))
        run(.shareCart(ShareCart(cart: "c1", actor: "alice", users: ["bob", "carol"])))
        run(.unshareCart(UnshareCart(cart: "c1", actor: "alice", user: "carol")))
        run(.putItem(PutItem(item: "a", name: "A", price: Money(minorUnits: 5), initialStock: 9)))
        run(.adjustStock(AdjustStock(item: "a", delta: 1)))
        run(.beginCheckout(BeginCheckout(cart: "c1", actor: "bob", checkout: "k1")))
        run(.reserveStock(ReserveStock(checkout: "k1", lines: [StockLine(item: "a", quantity: 3)])))
        run(.completeCheckout(CompleteCheckout(cart: "c1", checkout: "k1")))
        run(.commitReservation(CommitReservation(checkout: "k1")))
        run(.settleCheckout(SettleCheckout(cart: "c1", checkout: "k1")))
        run(.releaseStock(ReleaseStock(checkout: "k2")))
        run(.abortCheckout(AbortCheckout(cart: "c1", checkout: "k1", reason: "x")))
        run(.registerUser(RegisterUser(user: "alice", passwordHash: [1])))
        run(.linkCart(LinkCart(user: "alice", cart: "c1", role: .owner)))
        run(.unlinkCart(UnlinkCart(user: "alice", cart: "c1")))
        run(.reserveStock(ReserveStock(checkout: "k3", lines: [StockLine(item: "a", quantity: 1_000)])))
        XCTAssertEqual(Set(events.map(\.name)).count, 17, "every event kind but CartCheckoutAborted was produced")

        let audit = IntegerKeyAudit()
        _ = audit.audit(f.state.snapshot())
        _ = audit.audit(commands.map { CommandEnvelope($0, at: .zero, request: RequestKey(client: 1, request: 1)) })
        _ = audit.audit(events)
        _ = audit.audit(Event.cart(CartEvent(cart: "c", seq: 1, version: 1, timestamp: .zero,
                                             change: .checkoutAborted(CartCheckoutAborted(checkout: "k", reason: "r")))))
        let errors: [DomainError] = [
            .invalidArgument("x"), .invalidQuantity(0), .cartNotFound("c"), .itemNotFound("i"), .itemNotInCart("i"),
            .userNotFound("u"), .permissionDenied("u"), .cartClosed(.checkedOut), .versionConflict(current: 1),
            .insufficientStock(item: "i", available: 0), .tooManyItems(max: 1), .tooManyShares(max: 1),
            .tooManyCarts(max: 1), .partitionFull(max: 1), .cartAlreadyExists("c"), .userAlreadyExists("u"),
            .alreadyShared("u"), .notShared("u"), .cartEmpty, .checkoutMismatch(current: "k"),
            .checkoutUnsettled("k"), .reservationNotFound("k"), .reservationReleased("k"),
            .reservationCommitted("k"), .tooManyReservations(max: 1), .amountOverflow,
            .historyTruncated(oldest: 1), .checkoutAborted("k"), .checkoutCompleted("k"), .checkoutUndecided("k"),
        ]
        XCTAssertEqual(Set(errors.map(\.code)).count, errors.count, "codes are unique")
        XCTAssertEqual(audit.audit(errors), [])
    }

    // The audit itself can fail: a type with synthesized string keys is reported by path.
    func testTheAuditReportsStringKeys() {
        struct Named: Encodable { let name: String; let inner: Inner }
        struct Inner: Encodable { let count: Int }
        XCTAssertEqual(IntegerKeyAudit().audit(Named(name: "x", inner: Inner(count: 1))), ["name", "inner", "inner.count"])
    }
}
