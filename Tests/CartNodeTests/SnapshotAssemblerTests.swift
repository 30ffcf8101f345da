import CartAPI
@testable import CartNode
import CartRaft
import CartRPC
import CartTypes
import CartWire
import NIOCore
import XCTest

/// How a node puts together the snapshots a leader sends in pieces, and what it refuses.
final class SnapshotAssemblerTests: XCTestCase {
    private let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    private func snapshotMessage(index: LogIndex = 40, term: Term = 3, data: [UInt8]) -> Message {
        var message = Message(kind: .snapshot, from: 1, to: 2, term: term)
        message.snapshot = Snapshot(metadata: SnapshotMetadata(index: index, term: term, configuration: Configuration(voters: [1, 2, 3])),
                                    data: data)
        return message
    }

    /// `data` cut into pieces of `size` bytes, as a leader would send it.
    private func pieces(of message: Message, size: Int, from: NodeID = 1, partition: PartitionID = 5) -> [SnapshotChunk] {
        let data = message.snapshot!.data
        var header = message
        header.snapshot!.data = []
        return stride(from: 0, to: max(data.count, 1), by: size).map { offset in
            SnapshotChunk(from: from, partition: partition, message: header, offset: UInt64(offset), totalBytes: UInt64(data.count),
                          data: Array(data[offset..<min(data.count, offset + size)]))
        }
    }

    private func assertRefused(_ code: ErrorCode, _ body: () throws(RPCError) -> SnapshotAssembler.Outcome,
                               file: StaticString = #filePath, line: UInt = #line) {
        do {
            let outcome = try body()
            XCTFail("expected \(code), got \(outcome)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.code, code, "\(error)", file: file, line: line)
        }
    }

    func testPiecesInOrderMakeTheWholeMessage() throws {
        let data = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let message = snapshotMessage(data: data)
        let assembler = SnapshotAssembler()
        let chunks = pieces(of: message, size: 3_000)
        XCTAssertEqual(chunks.count, 4)
        for (i, chunk) in chunks.dropLast().enumerated() {
            XCTAssertEqual(try assembler.accept(chunk, now: start), .partial(receivedBytes: UInt64((i + 1) * 3_000)))
        }
        XCTAssertEqual(assembler.unfinished.count, 1)
        XCTAssertEqual(try assembler.accept(chunks.last!, now: start), .complete(message))
        XCTAssertEqual(assembler.unfinished.count, 0, "a finished transfer holds no memory")
    }

    func testAnEmptySnapshotIsOnePiece() throws {
        let message = snapshotMessage(data: [])
        let chunks = pieces(of: message, size: 1_024)
        XCTAssertEqual(chunks.count, 1)
        XCTAssertEqual(try SnapshotAssembler().accept(chunks[0], now: start), .complete(message))
    }

    /// A piece that does not continue the transfer ends it: the sender must start over.
    func testAGapOrARepeatEndsTheTransfer() throws {
        let message = snapshotMessage(data: Array(repeating: 7, count: 4_000))
        let chunks = pieces(of: message, size: 1_000)
        let assembler = SnapshotAssembler()
        _ = try assembler.accept(chunks[0], now: start)
        assertRefused(.failedPrecondition) { () throws(RPCError) in try assembler.accept(chunks[2], now: start) }
        XCTAssertEqual(assembler.unfinished.count, 0)
        assertRefused(.failedPrecondition) { () throws(RPCError) in try assembler.accept(chunks[1], now: start) }

        _ = try assembler.accept(chunks[0], now: start)
        _ = try assembler.accept(chunks[1], now: start)
        assertRefused(.failedPrecondition) { () throws(RPCError) in try assembler.accept(chunks[1], now: start) }
    }

    /// A piece of another snapshot (a newer one, or another term) does not continue the old
    /// transfer; a new transfer from the same leader for the same partition replaces it.
    func testAPieceOfAnotherSnapshotDoesNotContinueAndANewStartReplaces() throws {
        let old = pieces(of: snapshotMessage(index: 40, data: Array(repeating: 1, count: 2_000)), size: 1_000)
        let newer = pieces(of: snapshotMessage(index: 90, data: Array(repeating: 2, count: 2_000)), size: 1_000)
        let assembler = SnapshotAssembler()
        _ = try assembler.accept(old[0], now: start)
        assertRefused(.failedPrecondition) { () throws(RPCError) in try assembler.accept(newer[1], now: start) }

        _ = try assembler.accept(old[0], now: start)
        _ = try assembler.accept(newer[0], now: start)
        XCTAssertEqual(assembler.unfinished.count, 1)
        XCTAssertEqual(try assembler.accept(newer[1], now: start), .complete(snapshotMessage(index: 90, data: Array(repeating: 2, count: 2_000))))
    }

    /// Two leaders (or two partitions) may send at once; each transfer is its own.
    func testTransfersFromTwoSendersInterleave() throws {
        let a = snapshotMessage(index: 10, data: Array(repeating: 0xA, count: 2_000))
        let b = snapshotMessage(index: 20, data: Array(repeating: 0xB, count: 2_000))
        let fromA = pieces(of: a, size: 1_000, from: 1, partition: 5)
        let fromB = pieces(of: b, size: 1_000, from: 1, partition: 6)
        let assembler = SnapshotAssembler()
        _ = try assembler.accept(fromA[0], now: start)
        _ = try assembler.accept(fromB[0], now: start)
        XCTAssertEqual(try assembler.accept(fromB[1], now: start), .complete(b))
        XCTAssertEqual(try assembler.accept(fromA[1], now: start), .complete(a))
    }

    func testMalformedPiecesAreRefused() throws {
        let assembler = SnapshotAssembler()
        var notSnapshot = pieces(of: snapshotMessage(data: [1, 2, 3]), size: 10)[0]
        notSnapshot.message.kind = .append
        assertRefused(.invalidArgument) { () throws(RPCError) in try assembler.accept(notSnapshot, now: start) }

        var withData = pieces(of: snapshotMessage(data: [1, 2, 3]), size: 10)[0]
        withData.message.snapshot?.data = [9]
        assertRefused(.invalidArgument) { () throws(RPCError) in try assembler.accept(withData, now: start) }

        var pastTheEnd = pieces(of: snapshotMessage(data: [1, 2, 3]), size: 10)[0]
        pastTheEnd.totalBytes = 2
        assertRefused(.invalidArgument) { () throws(RPCError) in try assembler.accept(pastTheEnd, now: start) }

        var overflowing = pastTheEnd
        overflowing.offset = UInt64.max - 1
        overflowing.totalBytes = UInt64.max
        assertRefused(.invalidArgument) { () throws(RPCError) in try assembler.accept(overflowing, now: start) }
        XCTAssertEqual(assembler.unfinished.count, 0)
    }

    /// A snapshot longer than the node accepts is refused before any memory is reserved, and
    /// so is one that would take unfinished transfers past the same budget, until an idle
    /// transfer (its leader gone) is dropped.
    func testAnIdleTransferIsDroppedBySweep() throws {
        let assembler = SnapshotAssembler(limits: .init(transferBytesMax: 10_000, idleMs: 5_000))
        let chunks = pieces(of: snapshotMessage(data: Array(repeating: 1, count: 3_000)), size: 1_000)
        _ = try assembler.accept(chunks[0], now: start)
        assembler.dropIdleTransfers(now: start + .seconds(4))
        XCTAssertEqual(assembler.unfinished.count, 1)
        assembler.dropIdleTransfers(now: start + .seconds(6))
        XCTAssertEqual(assembler.unfinished.count, 0, "its sender went quiet: the memory is freed without another piece")
    }

    /// Bytes handed to a replica count against the budget until the replica has taken them:
    /// a transfer that completes holds its bytes from the step that completes it, so a
    /// transfer starting right after is refused while they would pass the budget, and
    /// admitted once the receiver releases them.
    func testSnapshotsHandedOverCountUntilTaken() throws {
        let assembler = SnapshotAssembler(limits: .init(transferBytesMax: 10_000, idleMs: 5_000))
        let first = pieces(of: snapshotMessage(index: 10, data: Array(repeating: 1, count: 8_000)), size: 4_000, from: 1)
        let chunks = pieces(of: snapshotMessage(index: 20, data: Array(repeating: 2, count: 3_000)), size: 1_000, from: 2)
        _ = try assembler.accept(first[0], now: start)
        guard case .complete = try assembler.accept(first[1], now: start) else { return XCTFail("the first transfer is whole") }
        XCTAssertEqual(assembler.unfinished.count, 0)
        XCTAssertEqual(assembler.unfinished.promisedBytes, 8_000, "held until its replica takes it")
        assertRefused(.resourceExhausted) { () throws(RPCError) in try assembler.accept(chunks[0], now: start) }
        assembler.release(8_000)
        XCTAssertEqual(try assembler.accept(chunks[0], now: start), .partial(receivedBytes: 1_000))
    }

    func testMemoryIsBoundedBySizeAndByTheBudgetOfUnfinishedTransfers() throws {
        let assembler = SnapshotAssembler(limits: .init(transferBytesMax: 10_000, idleMs: 5_000))
        var huge = pieces(of: snapshotMessage(data: [1]), size: 1)[0]
        huge.totalBytes = 1 << 40
        huge.data = []
        assertRefused(.resourceExhausted) { () throws(RPCError) in try assembler.accept(huge, now: start) }

        let first = pieces(of: snapshotMessage(index: 10, data: Array(repeating: 1, count: 6_000)), size: 1_000, from: 1)
        let second = pieces(of: snapshotMessage(index: 20, data: Array(repeating: 2, count: 6_000)), size: 1_000, from: 2)
        _ = try assembler.accept(first[0], now: start)
        assertRefused(.resourceExhausted) { () throws(RPCError) in try assembler.accept(second[0], now: start + .seconds(1)) }
        XCTAssertEqual(assembler.unfinished.promisedBytes, 6_000)

        // The first sender went quiet for longer than idleMs: the node's periodic sweep, or the
        // next piece from anyone, drops it.
        assembler.dropIdleTransfers(now: start + .seconds(2))
        XCTAssertEqual(assembler.unfinished.count, 1, "not idle long enough yet")
        XCTAssertEqual(try assembler.accept(second[0], now: start + .seconds(6)), .partial(receivedBytes: 1_000))
        XCTAssertEqual(assembler.unfinished.count, 1)
        assertRefused(.failedPrecondition) { () throws(RPCError) in try assembler.accept(first[1], now: start + .seconds(6)) }
    }
}
