import CartDomain
import CartTypes
import XCTest

/// Snapshot bytes are specified: a replica restored from them, and the wire that carries
/// them, depend on the exact encoding. How the state is held in memory may change; the
/// bytes of a given state may not.
final class SnapshotBytesPinTests: XCTestCase {
    // A long-running partition: alice's cart has seen more events than its history keeps
    // (so the oldest kept event is not seq 1) and the dedup window has forgotten its first
    // keys. Its snapshot bytes are pinned by length and FNV-1a digest, taken from the
    // encoding as first released (a window without retention, as then).
    func testAFullHistoryAndFullDedupWindowSnapshotKeepsItsBytes() throws {
        var limits = DomainLimits()
        limits.dedupEntriesMax = 8
        limits.dedupRetentionMs = 0
        let f = Self.longRunningPartition(limits: limits)
        try checkPinnedBytes(of: f)
    }

    // The same partition with the dedup window's retention: the limits carry it (field 18)
    // and each dedup entry its command's time (field 4); nothing else changes.
    func testAWindowWithRetentionKeepsItsBytes() throws {
        var limits = DomainLimits()
        limits.dedupEntriesMax = 8
        limits.dedupRetentionMs = 30_000
        let f = Self.longRunningPartition(limits: limits)
        XCTAssertEqual(f.state.dedup.entries.compactMap(\.appliedAt).count, 8)
        let bytes = try f.state.encodedSnapshot(using: BinarySnapshotCodec())
        // field 18 (2-byte tag, 3-byte varint) and 8 × field 4 (1-byte tag, 6-byte varint)
        XCTAssertEqual(bytes.count, 2_920 + 5 + 8 * 7)
        XCTAssertEqual(fnv1a64(bytes), 11_632_182_024_548_407_716)
        let restored = try PartitionState(snapshotBytes: bytes, using: BinarySnapshotCodec())
        XCTAssertEqual(restored, f.state)
    }

    private static func longRunningPartition(limits: DomainLimits) -> DomainFixture {
        var f = DomainFixture(limits: limits)
        f.cartOfAlice(items: ["a", "b"])
        f.accept(.shareCart(ShareCart(cart: "c1", actor: "alice", users: ["bob"])))
        for round in 0..<30 {
            let key = { (n: Int) in RequestKey(client: ClientID(UInt64(n % 3)), request: RequestID(UInt64(round * 3 + n))) }
            f.accept(.setQuantity(SetQuantity(cart: "c1", actor: "bob", item: "a", quantity: Int64(round % 5 + 1))), request: key(0))
            f.accept(.removeItem(RemoveItem(cart: "c1", actor: "alice", item: "b")), request: key(1))
            f.accept(.addItem(AddItem(cart: "c1", actor: "bob", item: "b", quantity: 2, unitPrice: Money(minorUnits: 300))),
                     request: key(2))
        }
        f.refuse(.removeItem(RemoveItem(cart: "c1", actor: "carol", item: "a")), with: .permissionDenied("carol"),
                 request: RequestKey(client: 9, request: 1))
        return f
    }

    private func checkPinnedBytes(of f: DomainFixture) throws {
        let limits = f.state.limits
        let history = try XCTUnwrap(f.state.histories["c1"])
        XCTAssertEqual(history.events.count, limits.historyEventsPerCartMax)
        XCTAssertEqual(history.events.first?.seq, Seq(94 - 64 + 1))
        XCTAssertEqual(f.state.dedup.count, 8)

        // The cart's links to alice and bob are pending (no node confirmed them): each cart
        // record carries them as its field 3.
        XCTAssertEqual(f.state.linksPending["c1"]?.map(\.user), ["alice", "bob"])
        let bytes = try f.state.encodedSnapshot(using: BinarySnapshotCodec())
        XCTAssertEqual(bytes.count, 2_920)
        XCTAssertEqual(fnv1a64(bytes), 13_043_666_069_944_403_427)

        // Before pending links existed, the same state gave these bytes; without them it
        // still does.
        var withoutPending = f.state.snapshot()
        withoutPending.carts = withoutPending.carts.map { PartitionSnapshot.CartRecord(cart: $0.cart, history: $0.history) }
        let withoutPendingBytes = try BinarySnapshotCodec().encode(withoutPending)
        XCTAssertEqual(withoutPendingBytes.count, 2_880)
        XCTAssertEqual(fnv1a64(withoutPendingBytes), 7_080_148_496_347_392_737)

        // The encoding as first released kept no request fingerprints (dedup field 3). The
        // same state without them still gives exactly those bytes, and they still restore:
        // their entries answer a retry whatever command it carries, as they did then.
        var released = withoutPending
        released.dedup = released.dedup.map { DedupEntry(key: $0.key, outcome: $0.outcome) }
        let releasedBytes = try BinarySnapshotCodec().encode(released)
        XCTAssertEqual(releasedBytes.count, 2_796)
        XCTAssertEqual(fnv1a64(releasedBytes), 5_320_745_450_549_692_283)
        var restored = try PartitionState(snapshotBytes: releasedBytes, using: BinarySnapshotCodec())
        let lastKey = try XCTUnwrap(restored.dedup.entries.last?.key)
        XCTAssertNil(restored.dedup.entry(for: lastKey)?.fingerprint)
        let other = Command.removeItem(RemoveItem(cart: "c1", actor: "mallory", item: "a"))
        XCTAssertEqual(restored.apply(other, at: Timestamp(millisecondsSinceEpoch: 1), request: lastKey),
                       f.state.dedup.outcome(for: lastKey)?.result)
    }
}

/// FNV-1a, 64 bits: a short, dependency-free fingerprint of pinned bytes.
func fnv1a64(_ bytes: [UInt8]) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash ^= UInt64(byte)
        hash &*= 0x0000_0100_0000_01b3
    }
    return hash
}
