import CartDomain
import CartTypes
import XCTest

/// The rules of a single cart: contents, permissions, sharing, versions, closure.
final class CartRulesTests: XCTestCase {
    // alice creates a cart and adds two espresso bags twice: one line of 4 units at the
    // first price, version and seq advance by one per command.
    func testAddingTheSameItemTwiceGrowsOneLineAtTheFirstPrice() {
        var f = DomainFixture()
        let created = f.accept(.createCart(CreateCart(cart: "c1", owner: "alice")))
        XCTAssertEqual(created.map(\.name), ["CartCreated"])
        f.accept(.addItem(AddItem(cart: "c1", actor: "alice", item: "sku-42", quantity: 2, unitPrice: Money(minorUnits: 1250))))
        let events = f.accept(.addItem(AddItem(cart: "c1", actor: "alice", item: "sku-42", quantity: 2, unitPrice: Money(minorUnits: 1300))))
        guard case .cart(let event) = events.first, case .itemAdded(let added) = event.change else {
            return XCTFail("expected CartItemAdded, got \(events)")
        }
        XCTAssertEqual(added.line, CartLine(item: "sku-42", quantity: 4, unitPrice: Money(minorUnits: 1250)))
        XCTAssertEqual(event.seq, Seq(3))
        XCTAssertEqual(event.version, Version(3))
        XCTAssertEqual(f.cart("c1").lines.count, 1)
        XCTAssertEqual(f.cart("c1").total(), Money(minorUnits: 5000))
        XCTAssertEqual(f.cart("c1").createdAt, Timestamp(millisecondsSinceEpoch: 1_700_000_000_001))
        XCTAssertEqual(f.cart("c1").updatedAt, Timestamp(millisecondsSinceEpoch: 1_700_000_000_003))
    }

    // Zero, negative and above-limit quantities are refused, on add and on set; a second
    // add that would push the line past the limit is refused too.
    func testQuantitiesMustBePositiveAndWithinTheLimit() {
        var limits = DomainLimits()
        limits.quantityMax = 10
        var f = DomainFixture(limits: limits)
        f.cartOfAlice(items: ["a"])
        for bad: Int64 in [0, -1, 11, .min] {
            f.refuse(.addItem(AddItem(cart: "c1", actor: "alice", item: "b", quantity: bad, unitPrice: .zero)),
                     with: .invalidQuantity(bad))
            f.refuse(.setQuantity(SetQuantity(cart: "c1", actor: "alice", item: "a", quantity: bad)),
                     with: .invalidQuantity(bad))
        }
        f.refuse(.addItem(AddItem(cart: "c1", actor: "alice", item: "a", quantity: 10, unitPrice: .zero)),
                 with: .invalidQuantity(11))
        f.accept(.setQuantity(SetQuantity(cart: "c1", actor: "alice", item: "a", quantity: 10)))
        XCTAssertEqual(f.cart("c1").line(for: "a")?.quantity, 10)
    }

    // A command wrong in itself (a bad quantity, item id or price) is refused as such, before
    // and whatever the cart's state: a missing cart, someone else's, a stale version.
    func testAWrongQuantityIsSaidFirstWhateverTheCart() {
        var f = DomainFixture()
        f.cartOfAlice(items: ["a"])
        f.refuse(.addItem(AddItem(cart: "nope", actor: "alice", item: "b", quantity: 0, unitPrice: .zero)),
                 with: .invalidQuantity(0))
        f.refuse(.addItem(AddItem(cart: "c1", actor: "mallory", item: "b", quantity: -1, unitPrice: .zero)),
                 with: .invalidQuantity(-1))
        f.refuse(.addItem(AddItem(cart: "c1", actor: "alice", item: "", quantity: 1, unitPrice: .zero, expectedVersion: 99)),
                 with: .invalidArgument("item id must be 1...\(ItemID.bytesMax) bytes, got 0"))
        f.refuse(.setQuantity(SetQuantity(cart: "nope", actor: "alice", item: "a", quantity: 0)),
                 with: .invalidQuantity(0))
        f.refuse(.setQuantity(SetQuantity(cart: "c1", actor: "alice", item: "zz", quantity: -5, expectedVersion: 99)),
                 with: .invalidQuantity(-5))
        // Right in itself: the cart's state decides.
        f.refuse(.addItem(AddItem(cart: "nope", actor: "alice", item: "b", quantity: 1, unitPrice: .zero)),
                 with: .cartNotFound("nope"))
    }

    // A cart holds at most itemsPerCartMax distinct items; more units of a present item are fine.
    func testACartHoldsAtMostItemsPerCartMaxDistinctItems() {
        var limits = DomainLimits()
        limits.itemsPerCartMax = 2
        var f = DomainFixture(limits: limits)
        f.cartOfAlice(items: ["a", "b"])
        f.refuse(.addItem(AddItem(cart: "c1", actor: "alice", item: "c", quantity: 1, unitPrice: .zero)),
                 with: .tooManyItems(max: 2))
        f.accept(.addItem(AddItem(cart: "c1", actor: "alice", item: "a", quantity: 1, unitPrice: .zero)))
    }

    // Removing and setting need the item to be in the cart.
    func testRemovingOrSettingAnItemNotInTheCartIsRefused() {
        var f = DomainFixture()
        f.cartOfAlice(items: ["a"])
        f.refuse(.removeItem(RemoveItem(cart: "c1", actor: "alice", item: "zz")), with: .itemNotInCart("zz"))
        f.refuse(.setQuantity(SetQuantity(cart: "c1", actor: "alice", item: "zz", quantity: 1)), with: .itemNotInCart("zz"))
        let events = f.accept(.removeItem(RemoveItem(cart: "c1", actor: "alice", item: "a")))
        XCTAssertEqual(events.map(\.name), ["CartItemRemoved"])
        XCTAssertTrue(f.cart("c1").lines.isEmpty)
    }

    // Carol was never invited: every operation on alice's cart is permission denied, reads too.
    func testAStrangerIsDeniedEveryOperation() {
        var f = DomainFixture()
        f.cartOfAlice(items: ["a"])
        let carol: UserID = "carol"
        f.refuse(.addItem(AddItem(cart: "c1", actor: carol, item: "b", quantity: 1, unitPrice: .zero)), with: .permissionDenied(carol))
        f.refuse(.removeItem(RemoveItem(cart: "c1", actor: carol, item: "a")), with: .permissionDenied(carol))
        f.refuse(.setQuantity(SetQuantity(cart: "c1", actor: carol, item: "a", quantity: 2)), with: .permissionDenied(carol))
        f.refuse(.shareCart(ShareCart(cart: "c1", actor: carol, users: [carol])), with: .permissionDenied(carol))
        f.refuse(.unshareCart(UnshareCart(cart: "c1", actor: carol, user: carol)), with: .permissionDenied(carol))
        f.refuse(.beginCheckout(BeginCheckout(cart: "c1", actor: carol, checkout: "k1")), with: .permissionDenied(carol))
        XCTAssertEqual(f.state.cart("c1", readBy: carol).failure, .permissionDenied(carol))
        XCTAssertEqual(f.state.history(of: "c1", from: .zero, eventsMax: 10, readBy: carol).failure, .permissionDenied(carol))
    }

    // Only the owner shares. Bob, once shared, may edit and may leave, but may not share
    // further or remove other shared users.
    func testOnlyTheOwnerSharesAndASharedUserMayOnlyLeave() {
        var f = DomainFixture()
        f.cartOfAlice(items: ["a"])
        let events = f.accept(.shareCart(ShareCart(cart: "c1", actor: "alice", users: ["bob", "dave"])))
        XCTAssertEqual(events.map(\.name), ["CartShared", "CartShared"])
        XCTAssertEqual(f.cart("c1").sharedUsers, ["bob", "dave"])
        f.accept(.addItem(AddItem(cart: "c1", actor: "bob", item: "b", quantity: 1, unitPrice: .zero)))
        f.refuse(.shareCart(ShareCart(cart: "c1", actor: "bob", users: ["carol"])), with: .permissionDenied("bob"))
        f.refuse(.unshareCart(UnshareCart(cart: "c1", actor: "bob", user: "dave")), with: .permissionDenied("bob"))
        f.accept(.unshareCart(UnshareCart(cart: "c1", actor: "bob", user: "bob")))
        f.refuse(.addItem(AddItem(cart: "c1", actor: "bob", item: "c", quantity: 1, unitPrice: .zero)), with: .permissionDenied("bob"))
        f.accept(.unshareCart(UnshareCart(cart: "c1", actor: "alice", user: "dave")))
        XCTAssertEqual(f.cart("c1").sharedUsers, [])
    }

    // One share command emits one event per user, with consecutive seqs and a single version.
    func testSharingWithSeveralUsersIsOneVersionAndSeveralEvents() {
        var f = DomainFixture()
        f.cartOfAlice()
        let events = f.accept(.shareCart(ShareCart(cart: "c1", actor: "alice", users: ["zoe", "bob"])))
        let positions = events.compactMap { event -> (Seq, Version)? in
            if case .cart(let e) = event { return (e.seq, e.version) } else { return nil }
        }
        XCTAssertEqual(positions.map(\.0), [Seq(2), Seq(3)])
        XCTAssertEqual(positions.map(\.1), [Version(2), Version(2)])
        XCTAssertEqual(f.cart("c1").sharedUsers, ["bob", "zoe"], "stored sorted")
        XCTAssertEqual(f.cart("c1").seq, Seq(3))
        XCTAssertEqual(f.cart("c1").version, Version(2))
    }

    // Sharing is all or nothing: with the owner, a duplicate, an already shared user or too
    // many users, nobody is added.
    func testSharingIsAllOrNothingAndBounded() {
        var limits = DomainLimits()
        limits.sharedUsersMax = 3
        var f = DomainFixture(limits: limits)
        f.cartOfAlice()
        f.accept(.shareCart(ShareCart(cart: "c1", actor: "alice", users: ["bob"])))
        f.refuse(.shareCart(ShareCart(cart: "c1", actor: "alice", users: ["carol", "bob"])), with: .alreadyShared("bob"))
        f.refuse(.shareCart(ShareCart(cart: "c1", actor: "alice", users: ["carol", "alice"])),
                 with: .invalidArgument("the owner cannot be a shared user"))
        f.refuse(.shareCart(ShareCart(cart: "c1", actor: "alice", users: ["carol", "carol"])),
                 with: .invalidArgument("user carol named twice"))
        f.refuse(.shareCart(ShareCart(cart: "c1", actor: "alice", users: ["carol", "dave", "erin"])),
                 with: .tooManyShares(max: 3))
        f.refuse(.unshareCart(UnshareCart(cart: "c1", actor: "alice", user: "carol")), with: .notShared("carol"))
        XCTAssertEqual(f.cart("c1").sharedUsers, ["bob"])
    }

    // Alice and bob both set the quantity expecting version 3: the first wins, the second
    // learns the current version and retries on purpose.
    func testStaleExpectedVersionIsAConflictNamingTheCurrentVersion() {
        var f = DomainFixture()
        f.cartOfAlice(items: ["a"])
        f.accept(.shareCart(ShareCart(cart: "c1", actor: "alice", users: ["bob"])))
        XCTAssertEqual(f.cart("c1").version, Version(3))
        f.accept(.setQuantity(SetQuantity(cart: "c1", actor: "alice", item: "a", quantity: 5, expectedVersion: Version(3))))
        f.refuse(.setQuantity(SetQuantity(cart: "c1", actor: "bob", item: "a", quantity: 7, expectedVersion: Version(3))),
                 with: .versionConflict(current: Version(4)))
        XCTAssertEqual(DomainError.versionConflict(current: Version(4)).message, "version conflict: cart is at version 4")
        f.accept(.setQuantity(SetQuantity(cart: "c1", actor: "bob", item: "a", quantity: 7, expectedVersion: Version(4))))
        f.accept(.setQuantity(SetQuantity(cart: "c1", actor: "alice", item: "a", quantity: 8)))
        XCTAssertEqual(f.cart("c1").line(for: "a")?.quantity, 8, "without an expected version, log order decides")
    }

    // Creating twice, or acting on a missing cart, are typed errors; ids are bounded.
    func testMissingAndDuplicateCartsAndBadIdsAreTypedErrors() {
        var f = DomainFixture()
        f.cartOfAlice()
        f.refuse(.createCart(CreateCart(cart: "c1", owner: "bob")), with: .cartAlreadyExists("c1"))
        f.refuse(.addItem(AddItem(cart: "nope", actor: "alice", item: "a", quantity: 1, unitPrice: .zero)), with: .cartNotFound("nope"))
        f.refuse(.createCart(CreateCart(cart: "", owner: "bob")), with: .invalidArgument("cart id must be 1...64 bytes, got 0"))
        f.refuse(.createCart(CreateCart(cart: CartID(String(repeating: "x", count: 65)), owner: "bob")),
                 with: .invalidArgument("cart id must be 1...64 bytes, got 65"))
        f.refuse(.addItem(AddItem(cart: "c1", actor: "alice", item: "a", quantity: 1, unitPrice: Money(minorUnits: -1))),
                 with: .invalidArgument("price -1 minor units is outside 0...1000000000"))
    }

    // A partition stores at most cartsPerPartitionMax carts.
    func testAFullPartitionRefusesNewCarts() {
        var limits = DomainLimits()
        limits.cartsPerPartitionMax = 1
        var f = DomainFixture(limits: limits)
        f.cartOfAlice()
        f.refuse(.createCart(CreateCart(cart: "c2", owner: "alice")), with: .partitionFull(max: 1))
    }

    // Error codes are part of the protocol: pin a few so renumbering fails a test.
    func testErrorCodesAreStable() {
        XCTAssertEqual(DomainError.invalidQuantity(0).code, 2)
        XCTAssertEqual(DomainError.permissionDenied("x").code, 7)
        XCTAssertEqual(DomainError.versionConflict(current: .zero).code, 9)
        XCTAssertEqual(DomainError.insufficientStock(item: "x", available: 0).code, 10)
        XCTAssertEqual(DomainError.historyTruncated(oldest: .zero).code, 27)
        XCTAssertEqual(DomainError.checkoutUndecided("k").code, 30)
        XCTAssertEqual(DomainError.versionConflict(current: .zero).category, .aborted)
    }
}
