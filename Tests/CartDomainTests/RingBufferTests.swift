@testable import CartDomain
import CartTypes
import CartWire
import Foundation
import XCTest

/// The ring that holds a cart's retained events: appending to a full ring overwrites the
/// oldest element, and everything outside sees the elements oldest first, as an array would.
final class RingBufferTests: XCTestCase {
    /// What an array keeping at most `countMax` elements holds after the same appends.
    private func arrayKeeping(_ countMax: Int, of elements: some Sequence<Int>) -> [Int] {
        var array: [Int] = []
        for element in elements {
            array.append(element)
            if array.count > countMax { array.removeFirst(array.count - countMax) }
        }
        return array
    }

    // Appending 1…n to a ring of 4 for every n up to three wraps: the ring always reads as
    // the last 4 elements in order, and equals (and hashes as) a ring freshly built from them.
    func testAppendingPastTheBoundWrapsAndKeepsTheNewestInOrder() {
        var ring = RingBuffer<Int>()
        for n in 1...13 {
            ring.append(n, keepingAtMost: 4)
            let expected = arrayKeeping(4, of: 1...n)
            XCTAssertEqual(Array(ring), expected, "after appending \(n)")
            XCTAssertEqual(ring.first, expected.first)
            XCTAssertEqual(ring.last, n)
            XCTAssertEqual(Array(ring[1...].prefix(2)), Array(expected.dropFirst().prefix(2)))
            let unwrapped = RingBuffer(expected)
            XCTAssertEqual(ring, unwrapped, "equality ignores where the oldest element is stored")
            XCTAssertEqual(ring.hashValue, unwrapped.hashValue)
        }
        XCTAssertNotEqual(ring, RingBuffer([10, 11, 12]))
        XCTAssertNotEqual(ring, RingBuffer([13, 10, 11, 12]))
    }

    // The bound is passed on every append; if it changes (a partition restored with other
    // limits), the ring behaves as an array trimmed to the new bound, wrapped or not.
    func testAChangedBoundKeepsTheNewestElementsInOrder() {
        var ring = RingBuffer<Int>()
        for n in 1...6 { ring.append(n, keepingAtMost: 4) }  // wrapped: 3 4 5 6
        ring.append(7, keepingAtMost: 6)
        XCTAssertEqual(Array(ring), [3, 4, 5, 6, 7])
        for n in 8...9 { ring.append(n, keepingAtMost: 6) }
        XCTAssertEqual(Array(ring), [4, 5, 6, 7, 8, 9])
        ring.append(10, keepingAtMost: 6)  // wrapped: 5 6 7 8 9 10
        ring.append(11, keepingAtMost: 2)
        XCTAssertEqual(Array(ring), [10, 11])
        ring.append(12, keepingAtMost: 2)
        XCTAssertEqual(Array(ring), [11, 12])
    }

    // A wrapped ring encodes to the same bytes as the array of its elements, oldest first,
    // and decodes back to an equal ring.
    func testAWrappedRingEncodesAsTheArrayOfItsElements() throws {
        var ring = RingBuffer<Int>()
        for n in 1...11 { ring.append(n, keepingAtMost: 5) }
        let bytes = try BinaryEncoder().encode(ring)
        XCTAssertEqual(bytes, try BinaryEncoder().encode([7, 8, 9, 10, 11]))
        XCTAssertEqual(try BinaryDecoder().decode(RingBuffer<Int>.self, from: bytes), ring)
        let json = try JSONEncoder().encode(ring)
        XCTAssertEqual(json, try JSONEncoder().encode([7, 8, 9, 10, 11]))
        XCTAssertEqual(try JSONDecoder().decode(RingBuffer<Int>.self, from: json), ring)
    }
}

/// A cart history whose ring has wrapped reads, compares and encodes as the array form.
final class WrappedCartHistoryTests: XCTestCase {
    private func event(_ seq: UInt64) -> CartEvent {
        CartEvent(cart: "c1", seq: Seq(seq), version: Version(seq), timestamp: Timestamp(millisecondsSinceEpoch: Int64(seq)),
                  change: .modified(CartModified(actor: "alice", item: "a", quantity: Int64(seq % 7 + 1))))
    }

    // Seqs 1…10 into a history of 4 (wrapped twice): reading from each kept seq returns the
    // rest in order across the wrap, older seqs are truncated, and a history built from the
    // same four events as an array is equal and encodes to the same bytes.
    func testReadingFromASeqAcrossTheWrapReturnsTheRestInOrder() throws {
        var history = CartHistory()
        for seq in 1...10 { history.append(event(UInt64(seq)), keepingAtMost: 4) }
        XCTAssertEqual(history.events.map(\.seq), [Seq(7), Seq(8), Seq(9), Seq(10)])
        for from in 7...11 {
            let expected = (from..<11).map { Seq(UInt64($0)) }
            XCTAssertEqual(try history.read(from: Seq(UInt64(from)), eventsMax: 100).get().map(\.seq), expected)
        }
        XCTAssertEqual(try history.read(from: Seq(8), eventsMax: 2).get().map(\.seq), [Seq(8), Seq(9)])
        XCTAssertEqual(history.read(from: Seq(6), eventsMax: 100).failure, .historyTruncated(oldest: Seq(7)))

        let arrayForm = CartHistory(events: (7...10).map { event(UInt64($0)) })
        XCTAssertEqual(history, arrayForm)
        XCTAssertEqual(try BinaryEncoder().encode(history), try BinaryEncoder().encode(arrayForm))
        XCTAssertEqual(try BinaryDecoder().decode(CartHistory.self, from: try BinaryEncoder().encode(history)), history)
        let json = JSONEncoder()
        json.outputFormatting = .sortedKeys
        XCTAssertEqual(try json.encode(history), try json.encode(arrayForm))
    }
}
