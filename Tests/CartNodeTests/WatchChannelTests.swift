import CartAPI
import CartDomain
@testable import CartNode
import CartRPC
import CartTypes
import NIOConcurrencyHelpers
import XCTest

/// The watch channel while a direct send is on its way to another loop: whatever the replica
/// does meanwhile reaches the consumer once the send is done, in order, and nothing is lost.
final class WatchChannelTests: XCTestCase {
    // Seq 1 goes out directly; seqs 2 and 3 arrive while it is on its way and wait in the
    // channel. When the send is done, the consumer wakes with 2 and 3, continuing after 1.
    func testEventsOfferedDuringASendFollowItOnceItIsDone() async {
        let (channel, hop) = (WatchChannel(eventsMax: 8, reader: "alice"), Hop())
        let woken = Task { await channel.next(continuingWith: Seq(1), direct: hop.direct) }
        await hop.waitForConsumer(channel)
        channel.offer(Self.item(1), encoded: { nil })
        XCTAssertEqual(hop.sendsStarted, 1)
        channel.offer(Self.item(2))
        channel.offer(Self.item(3))
        XCTAssertEqual(hop.sendsStarted, 1, "one send at a time")
        hop.finish(sent: true)
        let (next, continuing) = await woken.value
        XCTAssertEqual(Self.seqs(next), [2, 3])
        XCTAssertEqual(continuing, Seq(2))
    }

    // A send that could not go (no credit, say) gives its item back to the consumer, ahead
    // of what arrived meanwhile.
    func testAnItemThatCouldNotGoReachesTheConsumerFirst() async {
        let (channel, hop) = (WatchChannel(eventsMax: 8, reader: "alice"), Hop())
        let woken = Task { await channel.next(continuingWith: Seq(5), direct: hop.direct) }
        await hop.waitForConsumer(channel)
        channel.offer(Self.item(5))
        channel.offer(Self.item(6))
        hop.finish(sent: false)
        let (next, continuing) = await woken.value
        XCTAssertEqual(Self.seqs(next), [5, 6])
        XCTAssertEqual(continuing, Seq(5))
    }

    // Nothing arrived meanwhile: the consumer goes back to waiting, and the next item goes
    // out directly too, continuing after the first.
    func testAQuietChannelGoesBackToWaitingAfterASend() async {
        let (channel, hop) = (WatchChannel(eventsMax: 8, reader: "alice"), Hop())
        let woken = Task { await channel.next(continuingWith: Seq(1), direct: hop.direct) }
        await hop.waitForConsumer(channel)
        channel.offer(Self.item(1))
        hop.finish(sent: true)
        channel.offer(Self.item(2))
        XCTAssertEqual(hop.sendsStarted, 2)
        hop.finish(sent: false)
        let (next, continuing) = await woken.value
        XCTAssertEqual(Self.seqs(next), [2])
        XCTAssertEqual(continuing, Seq(2))
    }

    // The buffer overflowed while the send was on its way: the consumer re-reads history
    // from the first seq it has not sent (the item itself, when it could not go).
    func testAnOverflowDuringASendSendsTheConsumerToTheHistory() async {
        for sent in [true, false] {
            let (channel, hop) = (WatchChannel(eventsMax: 2, reader: "alice"), Hop())
            let woken = Task { await channel.next(continuingWith: Seq(1), direct: hop.direct) }
            await hop.waitForConsumer(channel)
            for seq in 1...4 { channel.offer(Self.item(UInt64(seq))) }
            hop.finish(sent: sent)
            let (next, continuing) = await woken.value
            guard case .overflowed = next else { return XCTFail("sent \(sent): \(next)") }
            XCTAssertEqual(continuing, sent ? Seq(2) : Seq(1))
        }
    }

    // Revoked (the reader was unshared at seq 2) while seq 1 was on its way: the consumer
    // gets seq 2, then the revocation.
    func testARevocationDuringASendComesAfterTheEventsBeforeIt() async {
        let (channel, hop) = (WatchChannel(eventsMax: 8, reader: "alice"), Hop())
        let woken = Task { await channel.next(continuingWith: Seq(1), direct: hop.direct) }
        await hop.waitForConsumer(channel)
        channel.offer(Self.item(1))
        channel.offer(Self.item(2))
        channel.revoke(at: Seq(2))
        hop.finish(sent: true)
        let (next, continuing) = await woken.value
        XCTAssertEqual(Self.seqs(next), [2])
        let (after, _) = await channel.next(continuingWith: Seq(3))
        guard case .accessRevoked = after else { return XCTFail("\(after)") }
        XCTAssertEqual(continuing, Seq(2))
    }

    // Closed (the replica stopped, the stream was cancelled) while a send was on its way:
    // the consumer hears of it when the send is done.
    func testACloseDuringASendEndsTheConsumerWhenTheSendIsDone() async {
        let (channel, hop) = (WatchChannel(eventsMax: 8, reader: "alice"), Hop())
        let woken = Task { await channel.next(continuingWith: Seq(1), direct: hop.direct) }
        await hop.waitForConsumer(channel)
        channel.offer(Self.item(1))
        channel.close()
        hop.finish(sent: true)
        let (next, continuing) = await woken.value
        guard case .closed = next else { return XCTFail("\(next)") }
        XCTAssertEqual(continuing, Seq(2))
    }

    // MARK: Support

    /// A direct send that stays on its way until the test finishes it, as a hop to another
    /// loop would.
    final class Hop: Sendable {
        private let pending = NIOLockedValueBox<[@Sendable (Bool) -> Void]>([])
        private let started = NIOLockedValueBox(0)

        var direct: WatchChannel.DirectSend {
            { [self] _, done in
                started.withLockedValue { $0 += 1 }
                pending.withLockedValue { $0.append(done) }
            }
        }

        var sendsStarted: Int { started.withLockedValue { $0 } }

        func finish(sent: Bool) {
            let done = pending.withLockedValue { $0.removeFirst() }
            done(sent)
        }

        /// Until the consumer's task waits on `channel` (its direct send registered); fails
        /// the test after 10 s rather than hang the suite.
        func waitForConsumer(_ channel: WatchChannel, file: StaticString = #filePath, line: UInt = #line) async {
            let deadline = ContinuousClock.now + .seconds(10)
            while !channel.hasWaitingConsumer {
                guard ContinuousClock.now < deadline else { return XCTFail("the consumer never waited", file: file, line: line) }
                await Task.yield()
            }
        }
    }

    static func item(_ seq: UInt64) -> WatchItem {
        WatchItem(event: CartEvent(cart: "c", seq: Seq(seq), version: Version(seq), timestamp: Timestamp(millisecondsSinceEpoch: 0),
                                   change: .created(CartCreated(owner: "alice"))),
                  committedAtMicros: seq)
    }

    static func seqs(_ next: WatchChannel.Next) -> [UInt64] {
        guard case .events(let items) = next else { return [] }
        return items.map(\.event.seq.rawValue)
    }
}
