import CartDomain
import CartRaft
@testable import CartNode
import CartTypes
import XCTest

/// The events a replica keeps for watches that resume from further back than a cart's
/// retained history: by time applied, capped in count, consecutive per cart.
final class RecentCartEventsTests: XCTestCase {
    private func event(_ cart: CartID, _ seq: UInt64) -> CartEvent {
        CartEvent(cart: cart, seq: Seq(seq), version: Version(seq), timestamp: Timestamp(millisecondsSinceEpoch: Int64(seq)),
                  change: .modified(CartModified(actor: "alice", item: "tea", quantity: 1)))
    }

    private let second: UInt64 = 1_000_000_000

    func testEventsAreKeptForTheWindowThenForgottenOldestFirst() {
        var recent = RecentCartEvents(windowMs: 10_000, eventsMax: 1_000)
        for seq in 1...5 { recent.record(event("a", UInt64(seq)), at: UInt64(seq) * second) }
        XCTAssertEqual(recent.events(of: "a", from: Seq(1))?.map(\.seq.rawValue), [1, 2, 3, 4, 5])
        XCTAssertEqual(recent.events(of: "a", from: Seq(4))?.map(\.seq.rawValue), [4, 5])
        XCTAssertEqual(recent.events(of: "a", from: Seq(6)), [], "the seq after the newest: nothing to send")
        XCTAssertNil(recent.events(of: "a", from: Seq(7)), "past the newest")
        XCTAssertNil(recent.events(of: "b", from: Seq(1)), "a cart with nothing here")

        // Applied at 12.5 s: events applied before 2.5 s are past the 10 s window.
        recent.record(event("a", 6), at: 12 * second + second / 2)
        XCTAssertNil(recent.events(of: "a", from: Seq(2)), "forgotten")
        XCTAssertEqual(recent.events(of: "a", from: Seq(3))?.map(\.seq.rawValue), [3, 4, 5, 6])
        XCTAssertEqual(recent.count, 4)
    }

    func testTheCapForgetsTheOldestOfAnyCart() {
        var recent = RecentCartEvents(windowMs: 60_000, eventsMax: 4)
        recent.record(event("a", 1), at: 1)
        recent.record(event("b", 1), at: 2)
        recent.record(event("a", 2), at: 3)
        recent.record(event("b", 2), at: 4)
        recent.record(event("a", 3), at: 5)
        XCTAssertEqual(recent.count, 4)
        XCTAssertNil(recent.events(of: "a", from: Seq(1)), "the oldest of all went first")
        XCTAssertEqual(recent.events(of: "a", from: Seq(2))?.map(\.seq.rawValue), [2, 3])
        XCTAssertEqual(recent.events(of: "b", from: Seq(1))?.map(\.seq.rawValue), [1, 2])
    }

    // A retry answered from the dedup window publishes its first outcome again: the events
    // are already here, and nothing changes.
    func testAnEventPublishedAgainIsSkipped() {
        var recent = RecentCartEvents(windowMs: 10_000, eventsMax: 1_000)
        for seq in 1...4 { recent.record(event("a", UInt64(seq)), at: UInt64(seq)) }
        recent.record(event("a", 2), at: 5)
        recent.record(event("a", 4), at: 6)
        recent.record(event("a", 5), at: 7)
        XCTAssertEqual(recent.events(of: "a", from: Seq(1))?.map(\.seq.rawValue), [1, 2, 3, 4, 5])
        XCTAssertEqual(recent.events(of: "a", from: Seq(3))?.map(\.seq.rawValue), [3, 4, 5])
    }

    // Events missing in the middle (cannot happen between restores) are never bridged.
    func testAGapIsNeverBridged() {
        var recent = RecentCartEvents(windowMs: 10_000, eventsMax: 1_000)
        recent.record(event("a", 1), at: 1 * second)
        recent.record(event("a", 2), at: 2 * second)
        recent.record(event("a", 9), at: 3 * second)
        XCTAssertNil(recent.events(of: "a", from: Seq(2)))
        XCTAssertEqual(recent.events(of: "a", from: Seq(9))?.map(\.seq.rawValue), [9])
        recent.record(event("a", 10), at: 12 * second + 1)  // 1 and 2 expire
        XCTAssertEqual(recent.events(of: "a", from: Seq(9))?.map(\.seq.rawValue), [9, 10])
        XCTAssertEqual(recent.count, 2)
    }

    func testAnEmptyWindowKeepsNothing() {
        var recent = RecentCartEvents(windowMs: 0, eventsMax: 1_000)
        XCTAssertFalse(recent.isEnabled)
        recent.record(event("a", 1), at: 1)
        XCTAssertNil(recent.events(of: "a", from: Seq(1)))
        XCTAssertEqual(recent.count, 0)
    }
}

extension RecentCartEventsTests {
    // Seeded: many carts, times that advance unevenly, a small cap; every read agrees with a
    // plain list of everything recorded, filtered by the same rules.
    func testAgreesWithAPlainListUnderRandomLoad() {
        for seed in UInt64(1)...8 {
            var random = SplitMix64(seed: seed)
            let windowMs: Int64 = 50, cap = 40
            var recent = RecentCartEvents(windowMs: windowMs, eventsMax: cap)
            var all: [(event: CartEvent, at: UInt64)] = []
            var seqs: [CartID: UInt64] = [:]
            var now: UInt64 = 0
            for _ in 0..<2_000 {
                now += random.next() % 3_000_000
                let cart = CartID("c\(random.next() % 5)")
                let seq = (seqs[cart] ?? 0) + 1
                seqs[cart] = seq
                let event = event(cart, seq)
                recent.record(event, at: now)
                all.append((event, now))
                // What the rules keep: the newest `cap` events applied within the window.
                let kept = all.suffix(cap).filter { $0.at + UInt64(windowMs) * 1_000_000 >= now }
                XCTAssertEqual(recent.count, kept.count, "seed \(seed)")
                let probe = CartID("c\(random.next() % 5)")
                let mine = kept.map(\.event).filter { $0.cart == probe }
                let from = Seq(UInt64(max(1, Int64(seqs[probe] ?? 0) - Int64(random.next() % 6))))
                let expected: [CartEvent]? = if let first = mine.first, first.seq <= from {
                    mine.filter { $0.seq >= from }
                } else { nil }
                XCTAssertEqual(recent.events(of: probe, from: from), expected, "seed \(seed) cart \(probe) from \(from)")
            }
        }
    }
}
