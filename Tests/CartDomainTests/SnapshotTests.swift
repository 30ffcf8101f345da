import CartDomain
import CartTypes
import XCTest

/// Snapshots: what a restarted replica rebuilds from, and what it refuses.
final class SnapshotTests: XCTestCase {
    // A partition with carts mid-checkout, held and settled reservations, users and dedup
    // entries round-trips through bytes to an equal state that decides the same way.
    func testASnapshotRoundTripsToAnEqualState() throws {
        var f = DomainFixture()
        f.cartOfAlice(items: ["a", "b"])
        f.accept(.shareCart(ShareCart(cart: "c1", actor: "alice", users: ["bob", "carol"])))
        f.cartOfAlice("c2", items: ["a"])
        f.accept(.beginCheckout(BeginCheckout(cart: "c2", actor: "alice", checkout: "k2")))
        f.catalogue(["a": 10, "b": 5])
        f.accept(.reserveStock(ReserveStock(checkout: "k1", lines: [StockLine(item: "a", quantity: 2)])))
        f.accept(.reserveStock(ReserveStock(checkout: "k2", lines: [StockLine(item: "b", quantity: 1)])))
        f.accept(.commitReservation(CommitReservation(checkout: "k2")))
        f.accept(.releaseStock(ReleaseStock(checkout: "k3")))
        f.accept(.registerUser(RegisterUser(user: "alice", passwordHash: [0xAB, 0xCD])))
        f.accept(.linkCart(LinkCart(user: "alice", cart: "c1", role: .owner)))
        f.run(.createCart(CreateCart(cart: "c1", owner: "x")), request: RequestKey(client: 1, request: 1))

        let codec = BinarySnapshotCodec()
        let bytes = try f.state.encodedSnapshot(using: codec)
        var restored = try PartitionState(snapshotBytes: bytes, using: codec)
        XCTAssertEqual(restored, f.state)
        XCTAssertEqual(try restored.encodedSnapshot(using: codec), bytes)
        let next = Command.releaseStock(ReleaseStock(checkout: "k1"))
        XCTAssertEqual(restored.apply(next, at: .zero), f.state.apply(next, at: .zero))
        XCTAssertEqual(restored, f.state)
    }

    // Garbage bytes, an unknown format version and duplicated records are typed errors.
    func testBadSnapshotsAreTypedErrors() throws {
        let codec = BinarySnapshotCodec()
        XCTAssertThrowsError(try PartitionState(snapshotBytes: Array("nonsense".utf8), using: codec)) { error in
            XCTAssertEqual((error as? SnapshotError)?.code, .undecodable)
        }
        var f = DomainFixture()
        f.cartOfAlice()
        var snapshot = f.state.snapshot()
        snapshot.formatVersion = 99
        XCTAssertThrowsError(try PartitionState(restoring: snapshot)) { error in
            XCTAssertEqual((error as? SnapshotError)?.code, .unsupportedFormatVersion)
        }
        snapshot = f.state.snapshot()
        snapshot.carts.append(snapshot.carts[0])
        snapshot.counts = snapshot.actualCounts
        XCTAssertThrowsError(try PartitionState(restoring: snapshot)) { error in
            XCTAssertEqual((error as? SnapshotError)?.code, .inconsistent)
        }
        snapshot = f.state.snapshot()
        snapshot.reservationsHeld = [Reservation(checkout: "k", lines: [], status: .released)]
        snapshot.counts = snapshot.actualCounts
        XCTAssertThrowsError(try PartitionState(restoring: snapshot)) { error in
            XCTAssertEqual((error as? SnapshotError)?.code, .inconsistent)
        }
    }

    // A snapshot whose lists lost records (cut short) no longer matches its own counts.
    func testASnapshotMissingRecordsIsIncomplete() {
        var f = DomainFixture()
        f.cartOfAlice()
        f.catalogue(["a": 1])
        var snapshot = f.state.snapshot()
        snapshot.items = []
        XCTAssertThrowsError(try PartitionState(restoring: snapshot)) { error in
            XCTAssertTrue("\(error)".contains("snapshot is incomplete"), "\(error)")
        }
    }

    // Records that decode but contradict each other are refused at load time, so the state
    // transitions never meet them: reserved units nobody holds, a cart whose history does
    // not end at its seq, a checked-out cart without a completed checkout.
    func testInconsistentSnapshotsAreRefusedAtLoad() throws {
        var f = DomainFixture()
        f.cartOfAlice(items: ["a"])
        f.catalogue(["a": 5])
        f.accept(.reserveStock(ReserveStock(checkout: "k1", lines: [StockLine(item: "a", quantity: 2)])))
        XCTAssertNoThrow(try PartitionState(restoring: f.state.snapshot()))
        func refused(_ change: (inout PartitionSnapshot) -> Void, because fragment: String,
                     line: UInt = #line) {
            var snapshot = f.state.snapshot()
            change(&snapshot)
            snapshot.counts = snapshot.actualCounts
            XCTAssertThrowsError(try PartitionState(restoring: snapshot), line: line) { error in
                XCTAssertEqual((error as? SnapshotError)?.code, .inconsistent, line: line)
                XCTAssertTrue("\(error)".contains(fragment), "\(error)", line: line)
            }
        }
        refused({ $0.reservationsHeld = [] }, because: "reserved 2")
        refused({ $0.limits.dedupEntriesMax = -1 }, because: "negative dedup limits")
        refused({ $0.limits.dedupRetentionMs = -30_000 }, because: "negative dedup limits")
        refused({ $0.carts[0].history = CartHistory(events: Array(f.state.histories["c1"]!.events.dropLast())) },
                because: "history does not end")
        let bob = User(id: "bob", passwordHash: [1], registeredAt: Timestamp(millisecondsSinceEpoch: 1),
                       carts: [CartLink(cart: "c1", role: .shared)])
        refused({ $0.users.append(User(id: bob.id, passwordHash: bob.passwordHash, registeredAt: bob.registeredAt, carts: bob.carts,
                                       linkMarks: [CartLinkMark(cart: "c1", seq: 3, linked: false)])) },
                because: "link mark that disagrees")
        refused({ $0.users.append(User(id: bob.id, passwordHash: bob.passwordHash, registeredAt: bob.registeredAt, carts: bob.carts,
                                       linkMarks: [CartLinkMark(cart: "c2", seq: 3, linked: false),
                                                   CartLinkMark(cart: "c1", seq: 3, linked: true)])) },
                because: "link marks are not sorted")
        // Status has no public setter: flip it in the encoded form (the first "status" key in
        // sorted-key JSON is the cart's).
        let json = String(decoding: try JSONSnapshotCodec().encode(f.state.snapshot()), as: UTF8.self)
        let flipped = json.replacingOccurrences(of: "\"status\":1", with: "\"status\":3", options: [], range: json.range(of: "\"status\":1"))
        XCTAssertNotEqual(flipped, json)
        XCTAssertThrowsError(try PartitionState(snapshotBytes: Array(flipped.utf8), using: JSONSnapshotCodec())) { error in
            XCTAssertTrue("\(error)".contains("does not match its checkout record"), "\(error)")
        }
    }
}
