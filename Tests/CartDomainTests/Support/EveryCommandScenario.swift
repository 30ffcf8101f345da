import CartDomain
import CartTypes

/// A partition that has seen every kind of command, accepted and refused, each with a
/// request key: the widest set of values to encode.
enum EveryCommandScenario {
    static func run() -> (state: PartitionState, envelopes: [CommandEnvelope], events: [Event]) {
        var f = DomainFixture()
        var events: [Event] = []
        var envelopes: [CommandEnvelope] = []
        func run(_ command: Command) {
            let key = RequestKey(client: 1, request: RequestID(UInt64(envelopes.count + 1)))
            envelopes.append(CommandEnvelope(command, at: Timestamp(millisecondsSinceEpoch: f.nowMs + 1), request: key))
            if case .success(let produced) = f.run(command, request: key) {
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
        run(.confirmLinks(ConfirmLinks(links: [LinkAtSeq(cart: "c1", user: "alice", seq: 1), LinkAtSeq(cart: "c1", user: "bob", seq: 2)])))
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
        return (f.state, envelopes, events)
    }

    /// One value of every error case.
    static let allErrors: [DomainError] = [
        .invalidArgument("x"), .invalidQuantity(0), .cartNotFound("c"), .itemNotFound("i"), .itemNotInCart("i"),
        .userNotFound("u"), .permissionDenied("u"), .cartClosed(.checkedOut), .versionConflict(current: 1),
        .insufficientStock(item: "i", available: 0), .tooManyItems(max: 1), .tooManyShares(max: 1),
        .tooManyCarts(max: 1), .partitionFull(max: 1), .cartAlreadyExists("c"), .userAlreadyExists("u"),
        .alreadyShared("u"), .notShared("u"), .cartEmpty, .checkoutMismatch(current: "k"), .checkoutMismatch(current: nil),
        .checkoutUnsettled("k"), .reservationNotFound("k"), .reservationReleased("k"),
        .reservationCommitted("k"), .tooManyReservations(max: 1), .amountOverflow,
        .historyTruncated(oldest: 1), .checkoutAborted("k"), .checkoutCompleted("k"), .checkoutUndecided("k"),
    ]
}
