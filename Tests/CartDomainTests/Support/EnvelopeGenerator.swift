import CartDomain
import CartTypes

/// Random log entries for the encoding tests: every command case, with strings that are
/// empty, ASCII, multi-byte UTF-8 or long enough to need two-byte length prefixes, integers
/// at their extremes, and optional fields present or absent.
struct EnvelopeGenerator {
    var random: SeededRandom

    init(seed: UInt64) { random = SeededRandom(seed: seed) }

    /// The commands the log entry writes by hand.
    static let hotCaseCount = 5

    mutating func envelope() -> CommandEnvelope {
        let command = random.chance(70) ? hotCommand() : otherCommand()
        let request = random.chance(60)
            ? RequestKey(client: ClientID(integer()), request: RequestID(integer())) : nil
        return CommandEnvelope(command, at: Timestamp(millisecondsSinceEpoch: signed()), request: request)
    }

    mutating func hotCommand() -> Command {
        switch Int.random(in: 0..<Self.hotCaseCount, using: &random) {
        case 0: return .createCart(CreateCart(cart: CartID(text()), owner: UserID(text())))
        case 1:
            return .addItem(AddItem(cart: CartID(text()), actor: UserID(text()), item: ItemID(text()), quantity: signed(),
                                    unitPrice: Money(minorUnits: signed()), expectedVersion: version()))
        case 2: return .removeItem(RemoveItem(cart: CartID(text()), actor: UserID(text()), item: ItemID(text()), expectedVersion: version()))
        case 3:
            return .setQuantity(SetQuantity(cart: CartID(text()), actor: UserID(text()), item: ItemID(text()),
                                            quantity: signed(), expectedVersion: version()))
        default:
            return .linkCart(LinkCart(user: UserID(text()), cart: CartID(text()), role: random.chance(50) ? .owner : .shared,
                                      cartSeq: random.chance(50) ? Seq(UInt64.random(in: 0...UInt64.max, using: &random)) : nil))
        }
    }

    /// Every command the log entry leaves to Codable.
    mutating func otherCommand() -> Command {
        let cart = CartID(text()), user = UserID(text()), checkout = CheckoutID(text()), item = ItemID(text())
        switch Int.random(in: 0..<14, using: &random) {
        case 0: return .shareCart(ShareCart(cart: cart, actor: user, users: (0..<Int.random(in: 0...3, using: &random)).map { _ in UserID(text()) },
                                            expectedVersion: version()))
        case 1: return .unshareCart(UnshareCart(cart: cart, actor: user, user: UserID(text()), expectedVersion: version()))
        case 2: return .beginCheckout(BeginCheckout(cart: cart, actor: user, checkout: checkout, expectedVersion: version()))
        case 3: return .completeCheckout(CompleteCheckout(cart: cart, checkout: checkout))
        case 4: return .abortCheckout(AbortCheckout(cart: cart, checkout: checkout, reason: text()))
        case 5: return .settleCheckout(SettleCheckout(cart: cart, checkout: checkout))
        case 6: return .putItem(PutItem(item: item, name: text(), price: Money(minorUnits: signed()), initialStock: signed()))
        case 7: return .adjustStock(AdjustStock(item: item, delta: signed()))
        case 8: return .reserveStock(ReserveStock(checkout: checkout, lines: [StockLine(item: item, quantity: signed())]))
        case 9: return .releaseStock(ReleaseStock(checkout: checkout))
        case 10: return .commitReservation(CommitReservation(checkout: checkout))
        case 11: return .registerUser(RegisterUser(user: user, passwordHash: (0..<Int.random(in: 0...40, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }))
        case 12:
            return .confirmLinks(ConfirmLinks(links: (0..<Int.random(in: 0...3, using: &random)).map { _ in
                LinkAtSeq(cart: CartID(text()), user: UserID(text()), seq: Seq(UInt64.random(in: 0...UInt64.max, using: &random)))
            }))
        default:
            return .unlinkCart(UnlinkCart(user: user, cart: cart,
                                          cartSeq: random.chance(50) ? Seq(UInt64.random(in: 0...UInt64.max, using: &random)) : nil))
        }
    }

    mutating func text() -> String {
        switch Int.random(in: 0..<6, using: &random) {
        case 0: return ""
        case 1: return "c\(integer() % 1_000)"
        case 2: return "6f1c2a9e-4b7d-4e8a-9c3f-\(String(integer() % 1_000_000_000_000, radix: 16))"
        case 3: return "Grüße €\(integer() % 100) 🛒"
        case 4: return String(repeating: "x", count: Int.random(in: 100...300, using: &random))
        default: return "sku-\(integer() % 10_000)"
        }
    }

    mutating func signed() -> Int64 {
        switch Int.random(in: 0..<4, using: &random) {
        case 0: return [Int64.min, Int64.max, 0, -1][Int.random(in: 0..<4, using: &random)]
        case 1: return Int64.random(in: -1_000...1_000, using: &random)
        default: return Int64.random(in: Int64.min...Int64.max, using: &random)
        }
    }

    mutating func integer() -> UInt64 {
        random.chance(20) ? UInt64.max - UInt64.random(in: 0...1, using: &random) : UInt64.random(in: 0...UInt64.max, using: &random) >> UInt64.random(in: 0...63, using: &random)
    }

    private mutating func version() -> Version? {
        random.chance(50) ? Version(integer()) : nil
    }
}
