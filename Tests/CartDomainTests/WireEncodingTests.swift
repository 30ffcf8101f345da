import CartDomain
import CartTypes
import CartWire
import XCTest

/// Commands (Raft entries), events (watch streams) and snapshots through the wire's binary
/// encoding: every value decodes to itself, and snapshots of equal states are equal bytes.
final class WireEncodingTests: XCTestCase {
    // A partition that ran every kind of command: each envelope, each event and the
    // snapshot round-trip through BinaryEncoder/BinaryDecoder unchanged.
    func testCommandsEventsAndSnapshotsRoundTripThroughTheBinaryEncoding() throws {
        let (state, envelopes, events) = EveryCommandScenario.run()
        for envelope in envelopes {
            let bytes = try BinaryEncoder().encode(envelope)
            XCTAssertEqual(try BinaryDecoder().decode(CommandEnvelope.self, from: bytes), envelope)
        }
        for event in events {
            XCTAssertEqual(try BinaryDecoder().decode(Event.self, from: BinaryEncoder().encode(event)), event)
        }
        for error in EveryCommandScenario.allErrors {
            XCTAssertEqual(try BinaryDecoder().decode(DomainError.self, from: BinaryEncoder().encode(error)), error)
        }
        for outcome in state.dedup.entries.map(\.outcome) {
            XCTAssertEqual(try BinaryDecoder().decode(CommandOutcome.self, from: BinaryEncoder().encode(outcome)), outcome)
        }
        let codec = BinarySnapshotCodec()
        let bytes = try state.encodedSnapshot(using: codec)
        let restored = try PartitionState(snapshotBytes: bytes, using: codec)
        XCTAssertEqual(restored, state)
        XCTAssertEqual(try restored.encodedSnapshot(using: codec), bytes)
    }

    // Truncated or corrupted snapshot bytes are a typed snapshot error, never a crash.
    func testDamagedSnapshotBytesAreTypedErrors() throws {
        let (state, _, _) = EveryCommandScenario.run()
        let codec = BinarySnapshotCodec()
        let bytes = try state.encodedSnapshot(using: codec)
        var random = SeededRandom(seed: 42)
        print("WireEncodingTests seed 42")
        for cut in stride(from: 1, to: bytes.count, by: max(1, bytes.count / 50)) {
            XCTAssertThrowsError(try PartitionState(snapshotBytes: Array(bytes[..<cut]), using: codec))
        }
        for _ in 0..<200 {
            var damaged = bytes
            damaged[Int.random(in: 0..<damaged.count, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
            do { _ = try PartitionState(snapshotBytes: damaged, using: codec) } catch { continue }
        }
    }
}
