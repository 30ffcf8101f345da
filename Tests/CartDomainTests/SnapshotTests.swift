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

        let codec = JSONSnapshotCodec()
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
        let codec = JSONSnapshotCodec()
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
        XCTAssertThrowsError(try PartitionState(restoring: snapshot)) { error in
            XCTAssertEqual((error as? SnapshotError)?.code, .inconsistent)
        }
        snapshot = f.state.snapshot()
        snapshot.reservationsHeld = [Reservation(checkout: "k", lines: [], status: .released)]
        XCTAssertThrowsError(try PartitionState(restoring: snapshot)) { error in
            XCTAssertEqual((error as? SnapshotError)?.code, .inconsistent)
        }
    }
}
