import CartDomain
import CartTypes

/// Random but plausible commands from several users against a few carts, items and
/// checkouts, mixing valid and invalid ones, saga steps in any order, stale expected
/// versions, and retries of earlier request keys.
struct CommandGenerator {
    var random: SeededRandom
    let users: [UserID] = ["alice", "bob", "carol", "dave"]
    let carts: [CartID] = ["c0", "c1", "c2", "c3"]
    let items: [ItemID] = ["i0", "i1", "i2", "i3", "i4"]
    private var nextRequest: UInt64 = 0
    private var nextCheckout = 0

    init(seed: UInt64) { random = SeededRandom(seed: seed) }

    mutating func next(for state: PartitionState) -> (Command, RequestKey?) {
        let command = nextCommand(for: state)
        guard random.chance(40) else { return (command, nil) }
        // Sometimes reuse an old key: a retry (possibly of a different command, which must
        // get the first command's answer).
        if nextRequest > 0 && random.chance(25) {
            return (command, RequestKey(client: ClientID(1), request: RequestID(UInt64.random(in: 1...nextRequest, using: &random))))
        }
        nextRequest += 1
        return (command, RequestKey(client: ClientID(UInt64.random(in: 1...2, using: &random)), request: RequestID(nextRequest)))
    }

    private mutating func nextCommand(for state: PartitionState) -> Command {
        let cart = random.pick(carts)
        let actor = random.pick(users)
        let item = random.pick(items)
        let quantity = Int64.random(in: -1...6, using: &random)
        let expected: Version? = random.chance(30)
            ? Version((state.carts[cart]?.version.rawValue ?? 0) &+ UInt64.random(in: 0...1, using: &random) &- 1)
            : nil
        let checkout = checkoutID(for: cart, in: state)
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<5: return .createCart(CreateCart(cart: cart, owner: actor))
        case 5..<30:
            return .addItem(AddItem(cart: cart, actor: actor, item: item, quantity: quantity,
                                    unitPrice: Money(minorUnits: Int64.random(in: 0...2_000, using: &random)),
                                    expectedVersion: expected))
        case 30..<36: return .removeItem(RemoveItem(cart: cart, actor: actor, item: item, expectedVersion: expected))
        case 36..<44: return .setQuantity(SetQuantity(cart: cart, actor: actor, item: item, quantity: quantity, expectedVersion: expected))
        case 44..<50:
            let count = Int.random(in: 1...2, using: &random)
            return .shareCart(ShareCart(cart: cart, actor: actor, users: (0..<count).map { _ in random.pick(users) },
                                        expectedVersion: expected))
        case 50..<52: return .unshareCart(UnshareCart(cart: cart, actor: actor, user: random.pick(users)))
        case 52..<53:
            // Mostly what is pending (each at its seq), sometimes a stale or unknown one.
            let pending = state.linksPending[cart] ?? []
            let links = pending.filter { _ in random.chance(70) }.map { LinkAtSeq(cart: cart, user: $0.user, seq: $0.seq) }
            let stale = LinkAtSeq(cart: cart, user: actor, seq: Seq(UInt64.random(in: 0...4, using: &random)))
            return .confirmLinks(ConfirmLinks(links: random.chance(30) ? links + [stale] : links))
        case 53..<58: return .beginCheckout(BeginCheckout(cart: cart, actor: actor, checkout: checkout))
        case 58..<62: return .completeCheckout(CompleteCheckout(cart: cart, checkout: checkout))
        case 62..<65: return .abortCheckout(AbortCheckout(cart: cart, checkout: checkout, reason: "stock"))
        case 65..<68: return .settleCheckout(SettleCheckout(cart: cart, checkout: checkout))
        case 68..<72:
            return .putItem(PutItem(item: item, name: "n\(item)", price: Money(minorUnits: 100),
                                    initialStock: Int64.random(in: 0...20, using: &random)))
        case 72..<77: return .adjustStock(AdjustStock(item: item, delta: Int64.random(in: -8...8, using: &random)))
        case 77..<85:
            let lines = state.carts[cart]?.checkout?.lines ?? [StockLine(item: item, quantity: max(1, quantity))]
            return .reserveStock(ReserveStock(checkout: checkout, lines: lines))
        case 85..<89: return .releaseStock(ReleaseStock(checkout: checkout))
        case 89..<93: return .commitReservation(CommitReservation(checkout: checkout))
        case 93..<96: return .registerUser(RegisterUser(user: actor, passwordHash: [UInt8(truncatingIfNeeded: quantity)]))
        case 96..<98:
            return .linkCart(LinkCart(user: actor, cart: cart, role: random.chance(50) ? .owner : .shared,
                                      cartSeq: random.chance(70) ? Seq(UInt64.random(in: 1...8, using: &random)) : nil))
        default: return .unlinkCart(UnlinkCart(user: actor, cart: cart, cartSeq: random.chance(70) ? Seq(UInt64.random(in: 1...8, using: &random)) : nil))
        }
    }

    /// Usually the cart's current checkout (so saga steps find it), sometimes a fresh one.
    private mutating func checkoutID(for cart: CartID, in state: PartitionState) -> CheckoutID {
        if let current = state.carts[cart]?.checkout?.id, random.chance(80) { return current }
        nextCheckout += 1
        return CheckoutID("k\(nextCheckout)")
    }
}
