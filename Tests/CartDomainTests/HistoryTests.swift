import CartDomain
import CartTypes
import XCTest

/// A watcher resumes a cart's history from the last seq it printed.
final class HistoryTests: XCTestCase {
    // bob printed events 1…3; he resumes from 4 and gets exactly the rest, in order.
    func testResumingFromASeqReturnsTheRestInOrder() throws {
        var f = DomainFixture()
        f.cartOfAlice(items: ["a", "b"])
        f.accept(.shareCart(ShareCart(cart: "c1", actor: "alice", users: ["bob"])))
        f.accept(.removeItem(RemoveItem(cart: "c1", actor: "bob", item: "a")))
        let rest = try f.state.history(of: "c1", from: Seq(4), eventsMax: 100, readBy: "bob").get()
        XCTAssertEqual(rest.map(\.seq), [Seq(4), Seq(5)])
        XCTAssertEqual(rest.map(\.change.name), ["CartShared", "CartItemRemoved"])
        let all = try f.state.history(of: "c1", from: .zero, eventsMax: 2, readBy: "alice").get()
        XCTAssertEqual(all.map(\.seq), [Seq(1), Seq(2)], "eventsMax bounds one read")
        XCTAssertEqual(try f.state.history(of: "c1", from: Seq(6), eventsMax: 100, readBy: "bob").get(), [])
    }

    // Only the last historyEventsPerCartMax events are kept; resuming from an older seq is a
    // typed error naming the oldest kept seq, so the watcher re-reads the cart instead.
    func testReadingOlderThanRetentionIsHistoryTruncated() throws {
        var limits = DomainLimits()
        limits.historyEventsPerCartMax = 3
        var f = DomainFixture(limits: limits)
        f.cartOfAlice(items: ["a", "b", "c", "d"])
        XCTAssertEqual(f.state.histories["c1"]?.events.map(\.seq), [Seq(3), Seq(4), Seq(5)])
        XCTAssertEqual(f.state.history(of: "c1", from: Seq(2), eventsMax: 10, readBy: "alice").failure,
                       .historyTruncated(oldest: Seq(3)))
        XCTAssertEqual(f.state.history(of: "c1", from: .zero, eventsMax: 10, readBy: "alice").failure,
                       .historyTruncated(oldest: Seq(3)))
        XCTAssertEqual(try f.state.history(of: "c1", from: Seq(3), eventsMax: 10, readBy: "alice").get().count, 3)
    }
}
