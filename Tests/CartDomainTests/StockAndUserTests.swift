import CartDomain
import CartTypes
import XCTest

/// The catalogue, stock adjustments and users with their cart links.
final class StockAndUserTests: XCTestCase {
    // An admin puts an item, then re-puts it with a new price: stock and reservations stay.
    func testPuttingAnExistingItemChangesNameAndPriceButKeepsStock() {
        var f = DomainFixture()
        f.accept(.putItem(PutItem(item: "sku-42", name: "Espresso beans", price: Money(minorUnits: 1250), initialStock: 100)))
        f.accept(.reserveStock(ReserveStock(checkout: "k1", lines: [StockLine(item: "sku-42", quantity: 10)])))
        f.accept(.putItem(PutItem(item: "sku-42", name: "Espresso beans 1kg", price: Money(minorUnits: 1300), initialStock: 5)))
        XCTAssertEqual(f.item("sku-42"), Item(id: "sku-42", name: "Espresso beans 1kg", price: Money(minorUnits: 1300), stock: 90, reserved: 10))
        XCTAssertEqual(Money(minorUnits: 1250).description, "12.50")
    }

    // Removing more than is available is refused naming what is available; stock never < 0.
    func testStockNeverGoesNegative() {
        var f = DomainFixture()
        f.catalogue(["a": 3])
        f.refuse(.adjustStock(AdjustStock(item: "a", delta: -4)), with: .insufficientStock(item: "a", available: 3))
        f.refuse(.adjustStock(AdjustStock(item: "a", delta: .min)), with: .insufficientStock(item: "a", available: 3))
        f.refuse(.adjustStock(AdjustStock(item: "a", delta: 0)), with: .invalidArgument("stock delta must not be zero"))
        f.refuse(.adjustStock(AdjustStock(item: "zz", delta: 1)), with: .itemNotFound("zz"))
        let events = f.accept(.adjustStock(AdjustStock(item: "a", delta: -3)))
        XCTAssertEqual(events, [.item(.stockAdjusted(StockAdjusted(item: "a", delta: -3, stock: 0)))])
        f.refuse(.adjustStock(AdjustStock(item: "a", delta: .max)), with: .invalidArgument("stock would exceed 1000000000000 units"))
    }

    // Bad catalogue input is a typed error.
    func testBadItemDefinitionsAreRefused() {
        var f = DomainFixture()
        f.refuse(.putItem(PutItem(item: "a", name: "", price: .zero, initialStock: 1)),
                 with: .invalidArgument("item name must be 1...200 bytes, got 0"))
        f.refuse(.putItem(PutItem(item: "a", name: "A", price: .zero, initialStock: -1)),
                 with: .invalidArgument("initial stock must be 0...1000000000000"))
        f.refuse(.putItem(PutItem(item: "a", name: "A", price: Money(minorUnits: 1_000_000_001), initialStock: 1)),
                 with: .invalidArgument("price 1000000001 minor units is outside 0...1000000000"))
    }

    // alice registers with a hash the gateway computed; a second registration is refused.
    func testRegisteringStoresTheHashAndRefusesDuplicates() {
        var f = DomainFixture()
        let events = f.accept(.registerUser(RegisterUser(user: "alice", passwordHash: [1, 2, 3])))
        XCTAssertEqual(events.map(\.name), ["UserRegistered"])
        XCTAssertEqual(f.state.users["alice"]?.passwordHash, [1, 2, 3])
        f.refuse(.registerUser(RegisterUser(user: "alice", passwordHash: [9])), with: .userAlreadyExists("alice"))
        f.refuse(.registerUser(RegisterUser(user: "bob", passwordHash: [])),
                 with: .invalidArgument("password hash must be 1...256 bytes, got 0"))
    }

    // The node links carts to users after the cart partition accepted the change; links are
    // idempotent, sorted, bounded, and a role can change (shared → owner never happens, but
    // a re-link replaces).
    func testCartLinksAreIdempotentSortedAndBounded() {
        var limits = DomainLimits()
        limits.cartsPerUserMax = 2
        var f = DomainFixture(limits: limits)
        f.accept(.registerUser(RegisterUser(user: "bob", passwordHash: [1])))
        f.accept(.linkCart(LinkCart(user: "bob", cart: "c9", role: .owner)))
        f.accept(.linkCart(LinkCart(user: "bob", cart: "c1", role: .shared)))
        XCTAssertEqual(f.accept(.linkCart(LinkCart(user: "bob", cart: "c1", role: .shared))), [])
        XCTAssertEqual(f.state.users["bob"]?.carts.map(\.cart), ["c1", "c9"])
        f.refuse(.linkCart(LinkCart(user: "bob", cart: "c5", role: .shared)), with: .tooManyCarts(max: 2))
        f.refuse(.linkCart(LinkCart(user: "zed", cart: "c5", role: .shared)), with: .userNotFound("zed"))
        f.accept(.unlinkCart(UnlinkCart(user: "bob", cart: "c1")))
        XCTAssertEqual(f.accept(.unlinkCart(UnlinkCart(user: "bob", cart: "c1"))), [])
        XCTAssertEqual(f.state.users["bob"]?.carts, [CartLink(cart: "c9", role: .owner)])
    }

    // Links and unlinks carry the cart seq they are as of and may arrive in any order: an
    // unshare's unlink that overtakes the share's link leaves bob unlinked, and the late link
    // changes nothing; a re-share (a newer seq) links him again; repeats change nothing.
    func testLinksAndUnlinksApplyInCartSeqOrderWhateverOrderTheyArriveIn() {
        var f = DomainFixture()
        f.accept(.registerUser(RegisterUser(user: "bob", passwordHash: [1])))
        f.accept(.unlinkCart(UnlinkCart(user: "bob", cart: "c1", cartSeq: 5)))
        XCTAssertEqual(f.state.users["bob"]?.mark(for: "c1"), CartLinkMark(cart: "c1", seq: 5, linked: false))
        XCTAssertEqual(f.accept(.linkCart(LinkCart(user: "bob", cart: "c1", role: .shared, cartSeq: 4))), [], "the share came first")
        XCTAssertEqual(f.state.users["bob"]?.carts, [])
        XCTAssertEqual(f.accept(.linkCart(LinkCart(user: "bob", cart: "c1", role: .shared, cartSeq: 5))), [], "same seq: stale")

        f.accept(.linkCart(LinkCart(user: "bob", cart: "c1", role: .shared, cartSeq: 9)))
        XCTAssertEqual(f.state.users["bob"]?.carts, [CartLink(cart: "c1", role: .shared)])
        XCTAssertEqual(f.accept(.linkCart(LinkCart(user: "bob", cart: "c1", role: .shared, cartSeq: 9))), [], "a retry")
        XCTAssertEqual(f.accept(.unlinkCart(UnlinkCart(user: "bob", cart: "c1", cartSeq: 7))), [], "an older unshare")
        XCTAssertEqual(f.state.users["bob"]?.carts, [CartLink(cart: "c1", role: .shared)])

        // A newer link with the same role still moves the mark on, so the unshare between
        // them (seq 10) is recognised as older when it arrives last.
        f.accept(.linkCart(LinkCart(user: "bob", cart: "c1", role: .shared, cartSeq: 11)))
        XCTAssertEqual(f.accept(.unlinkCart(UnlinkCart(user: "bob", cart: "c1", cartSeq: 10))), [])
        XCTAssertEqual(f.state.users["bob"]?.mark(for: "c1"), CartLinkMark(cart: "c1", seq: 11, linked: true))
        f.accept(.unlinkCart(UnlinkCart(user: "bob", cart: "c1", cartSeq: 12)))
        XCTAssertEqual(f.state.users["bob"]?.carts, [])

        // Without a seq (entries written before links carried one) a link applies as it comes.
        f.accept(.linkCart(LinkCart(user: "bob", cart: "c2", role: .owner)))
        XCTAssertEqual(f.state.users["bob"]?.carts, [CartLink(cart: "c2", role: .owner)])
        XCTAssertNil(f.state.users["bob"]?.mark(for: "c2"))
    }

    // Removal marks are bounded by cartsPerUserMax; the oldest carts' marks go first.
    func testRemovalMarksAreBounded() {
        var limits = DomainLimits()
        limits.cartsPerUserMax = 2
        var f = DomainFixture(limits: limits)
        f.accept(.registerUser(RegisterUser(user: "bob", passwordHash: [1])))
        for cart in ["c1", "c2", "c3"] { f.accept(.unlinkCart(UnlinkCart(user: "bob", cart: CartID(cart), cartSeq: 3))) }
        XCTAssertEqual(f.state.users["bob"]?.linkMarks.map(\.cart), ["c2", "c3"])
        f.accept(.linkCart(LinkCart(user: "bob", cart: "c4", role: .shared, cartSeq: 1)))
        XCTAssertEqual(f.state.users["bob"]?.linkMarks.map(\.cart), ["c2", "c3", "c4"], "links' marks do not count")
    }

    // A cart partition keeps what it owes the users' partitions: the owner's link on
    // create, each share's link and each unshare's unlink, the newest per user. A
    // confirmation ends an entry only at the seq it names, so one for a change that a newer
    // one replaced leaves the newer one pending.
    func testCartMembershipChangesStayPendingUntilConfirmedAtTheirSeq() {
        var f = DomainFixture()
        f.accept(.createCart(CreateCart(cart: "c1", owner: "alice")))
        f.accept(.shareCart(ShareCart(cart: "c1", actor: "alice", users: ["bob", "carol"])))
        let shared = f.state.linksPending["c1"] ?? []
        XCTAssertEqual(shared.map(\.user), ["alice", "bob", "carol"])
        XCTAssertEqual(shared.map(\.seq), [1, 2, 3])
        XCTAssertEqual(shared.map(\.linked), [true, true, true])

        f.accept(.unshareCart(UnshareCart(cart: "c1", actor: "alice", user: "bob")))
        let unsharedAt = Timestamp(millisecondsSinceEpoch: f.nowMs)
        XCTAssertEqual(f.state.linksPending["c1"]?[1], PendingLink(user: "bob", seq: 4, linked: false, since: unsharedAt))
        // The confirmation of bob's link (seq 2) comes after his unshare: it ends nothing.
        let stale = f.accept(.confirmLinks(ConfirmLinks(links: [LinkAtSeq(cart: "c1", user: "bob", seq: 2),
                                                                LinkAtSeq(cart: "c1", user: "alice", seq: 1)])))
        XCTAssertEqual(stale, [.links(LinksConfirmed(links: [LinkAtSeq(cart: "c1", user: "alice", seq: 1)]))])
        XCTAssertEqual(f.state.linksPending["c1"]?.map(\.user), ["bob", "carol"])
        XCTAssertEqual(f.accept(.confirmLinks(ConfirmLinks(links: [LinkAtSeq(cart: "c9", user: "x", seq: 1)]))), [])

        f.accept(.confirmLinks(ConfirmLinks(links: [LinkAtSeq(cart: "c1", user: "bob", seq: 4),
                                                    LinkAtSeq(cart: "c1", user: "carol", seq: 3)])))
        XCTAssertNil(f.state.linksPending["c1"])
        f.refuse(.confirmLinks(ConfirmLinks(links: Array(repeating: LinkAtSeq(cart: "c1", user: "bob", seq: 4),
                                                            count: ConfirmLinks.linksMax + 1))),
                 with: .invalidArgument("at most \(ConfirmLinks.linksMax) links per confirmation, got \(ConfirmLinks.linksMax + 1)"))

        // A re-share replaces the pending unlink; what is pending survives a snapshot.
        f.accept(.unshareCart(UnshareCart(cart: "c1", actor: "alice", user: "carol")))
        f.accept(.shareCart(ShareCart(cart: "c1", actor: "alice", users: ["carol"])))
        let resharedAt = Timestamp(millisecondsSinceEpoch: f.nowMs)
        XCTAssertEqual(f.state.linksPending["c1"], [PendingLink(user: "carol", seq: 6, linked: true, since: resharedAt)])
        XCTAssertEqual(try PartitionState(restoring: f.state.snapshot()).linksPending, f.state.linksPending)
        XCTAssertEqual(f.state.linksPending(before: Timestamp(millisecondsSinceEpoch: f.nowMs + 1), limit: 10).map(\.role), [.shared])
        XCTAssertTrue(f.state.linksPending(before: resharedAt, limit: 10).isEmpty, "not pending for long yet")
    }
}

/// The availability check a cart's leader makes before proposing an addition or a quantity
/// change (`PartitionState.checkAvailability`): advice from its copy of the item, not part of
/// the logged decision.
final class AvailabilityCheckTests: XCTestCase {
    private func rare(stock: Int64) -> Item { Item(id: "rare", name: "Rare", price: Money(minorUnits: 100), stock: stock) }
    private func add(_ quantity: Int64, by actor: UserID = "alice") -> Command {
        .addItem(AddItem(cart: "c1", actor: actor, item: "rare", quantity: quantity, unitPrice: Money(minorUnits: 100)))
    }
    private func set(_ quantity: Int64) -> Command {
        .setQuantity(SetQuantity(cart: "c1", actor: "alice", item: "rare", quantity: quantity))
    }

    // A line may grow up to the stock and no further, by an addition or a quantity change.
    func testALineGrowsUpToTheStockAndNoFurther() throws {
        var f = DomainFixture()
        f.cartOfAlice()
        let item = rare(stock: 3)
        XCTAssertNoThrow(try f.state.checkAvailability(of: item, for: add(3), request: nil))
        XCTAssertThrowsError(try f.state.checkAvailability(of: item, for: add(4), request: nil)) {
            XCTAssertEqual($0 as? DomainError, .insufficientStock(item: "rare", available: 3))
        }
        f.accept(add(2))
        XCTAssertNoThrow(try f.state.checkAvailability(of: item, for: add(1), request: nil))
        XCTAssertThrowsError(try f.state.checkAvailability(of: item, for: add(2), request: nil)) {
            XCTAssertEqual($0 as? DomainError, .insufficientStock(item: "rare", available: 3))
        }
        XCTAssertNoThrow(try f.state.checkAvailability(of: item, for: set(3), request: nil))
        XCTAssertThrowsError(try f.state.checkAvailability(of: item, for: set(4), request: nil))
        // Another item's copy says nothing of this line.
        XCTAssertNoThrow(try f.state.checkAvailability(of: Item(id: "other", name: "O", price: .zero, stock: 0),
                                                       for: add(50), request: nil))
    }

    // Once the stock falls below what the line holds, the line keeps its units and may
    // shrink, but any growth is refused; nothing is ever available below zero.
    func testALineAboveTheStockMayStayOrShrinkButNotGrow() {
        var f = DomainFixture()
        f.cartOfAlice()
        f.accept(add(5))
        let item = rare(stock: 1)
        XCTAssertNoThrow(try f.state.checkAvailability(of: item, for: set(5), request: nil))
        XCTAssertNoThrow(try f.state.checkAvailability(of: item, for: set(2), request: nil))
        XCTAssertThrowsError(try f.state.checkAvailability(of: item, for: set(6), request: nil)) {
            XCTAssertEqual($0 as? DomainError, .insufficientStock(item: "rare", available: 1))
        }
        XCTAssertThrowsError(try f.state.checkAvailability(of: rare(stock: 0), for: add(1), request: nil)) {
            XCTAssertEqual($0 as? DomainError, .insufficientStock(item: "rare", available: 0))
        }
    }

    // The command's own rules come first: a command they refuse passes the check, to be
    // refused in the log as always (carol learns nothing of the stock); so does a retry the
    // dedup window answers, and any line of an item with as many units as a line can hold.
    func testTheCommandsOwnRulesAndRetriesComeFirst() {
        var f = DomainFixture()
        f.cartOfAlice()
        let key = RequestKey(client: 7, request: 1)
        f.accept(add(3), request: key)
        let item = rare(stock: 3)
        XCTAssertNoThrow(try f.state.checkAvailability(of: item, for: add(3), request: key), "a retry")
        XCTAssertThrowsError(try f.state.checkAvailability(of: item, for: add(3), request: RequestKey(client: 7, request: 2)))
        XCTAssertNoThrow(try f.state.checkAvailability(of: item, for: add(9, by: "carol"), request: nil))
        XCTAssertNoThrow(try f.state.checkAvailability(of: item, for: add(0), request: nil))
        XCTAssertNoThrow(try f.state.checkAvailability(of: item, for: set(9).withCart("c-none"), request: nil))
        XCTAssertNoThrow(try f.state.checkAvailability(of: rare(stock: DomainLimits.standard.quantityMax), for: add(997), request: nil))
        XCTAssertNoThrow(try f.state.checkAvailability(of: item, for: .removeItem(RemoveItem(cart: "c1", actor: "alice", item: "rare")),
                                                       request: nil))
    }
}

private extension Command {
    func withCart(_ cart: CartID) -> Command {
        guard case .setQuantity(let set) = self else { return self }
        return .setQuantity(SetQuantity(cart: cart, actor: set.actor, item: set.item, quantity: set.quantity))
    }
}
