import CartDomain
import CartTypes
import CartWire
import Foundation
import XCTest

/// The log entry's hand-written encoding (`logEntryBytes` / `init(logEntryBytes:)`) and the
/// Codable encoding are one format: same bytes out for every command, and the same answer
/// (the same envelope, or an error of the same kind) for any input, valid or damaged.
/// Random runs print their seed; rerun one with `ENVELOPE_SEED=<seed> swift test --filter CommandEnvelopeWireTests`.
final class CommandEnvelopeWireTests: XCTestCase {
    private let envelopesPerRun = 600
    private let mutationsPerRun = 3_000
    private let randomInputsPerRun = 1_000

    private func seed() -> UInt64 {
        let seed = ProcessInfo.processInfo.environment["ENVELOPE_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 0...UInt64.max)
        print("CommandEnvelopeWireTests seed \(seed) (rerun with ENVELOPE_SEED=\(seed))")
        return seed
    }

    // A leader writes random envelopes of every command; for each, the hand-written bytes are
    // the Codable bytes, and each path decodes the other's bytes back to the envelope.
    func testRandomEnvelopesOfEveryCommandEncodeToTheCodableBytes() throws {
        let seed = seed()
        var generator = EnvelopeGenerator(seed: seed)
        for iteration in 0..<envelopesPerRun {
            let envelope = generator.envelope()
            let context = "seed \(seed) iteration \(iteration): \(envelope)"
            let fast = try envelope.logEntryBytes()
            let codable = try codableEncode(envelope)
            XCTAssertEqual(fast, codable, context)
            XCTAssertEqual(try CommandEnvelope(logEntryBytes: codable), envelope, context)
            XCTAssertEqual(try codableDecode(CommandEnvelope.self, fast), envelope, context)
            if fast != codable { return }
        }
    }

    // The partition scenario that runs every command, accepted and refused: its envelopes
    // are the same bytes both ways too.
    func testEveryCommandOfAPartitionScenarioEncodesToTheCodableBytes() throws {
        for envelope in EveryCommandScenario.run().envelopes {
            XCTAssertEqual(try envelope.logEntryBytes(), try codableEncode(envelope), "\(envelope.command)")
            XCTAssertEqual(try CommandEnvelope(logEntryBytes: envelope.logEntryBytes()), envelope)
        }
    }

    // The log format pinned by hand (PROTOCOL.md §6): an addItem entry as a node wrote it
    // before the hand-written path existed must still read, and be written identically.
    func testAnAddItemEntryHasTheDocumentedBytes() throws {
        let envelope = CommandEnvelope(.addItem(AddItem(cart: "c1", actor: "al", item: "i9", quantity: 2,
                                                        unitPrice: Money(minorUnits: 150))),
                                       at: Timestamp(millisecondsSinceEpoch: 1_000),
                                       request: RequestKey(client: 7, request: 9))
        let documented: [UInt8] = [
            0x0a, 0x15,                         // 1 command, 21 bytes
            0x12, 0x13,                         //   2 addItem, 19 bytes
            0x0a, 0x11,                         //     1 _0 (AddItem), 17 bytes
            0x0a, 0x02, 0x63, 0x31,             //       1 cart "c1"
            0x12, 0x02, 0x61, 0x6c,             //       2 actor "al"
            0x1a, 0x02, 0x69, 0x39,             //       3 item "i9"
            0x20, 0x04,                         //       4 quantity 2 (zigzag 4)
            0x28, 0xac, 0x02,                   //       5 unitPrice 150 (zigzag 300); no expectedVersion
            0x10, 0xd0, 0x0f,                   // 2 timestamp 1000 (zigzag 2000)
            0x1a, 0x04, 0x08, 0x07, 0x10, 0x09, // 3 request { client 7, request 9 }
        ]
        XCTAssertEqual(try envelope.logEntryBytes(), documented)
        XCTAssertEqual(try codableEncode(envelope), documented)
        XCTAssertEqual(try CommandEnvelope(logEntryBytes: documented), envelope)
    }

    // A newer writer added fields at every level (envelope, command cases, the case wrapper,
    // the command, the request key) with every wire type: this reader skips them all and
    // reads the entry it knows, as Codable does.
    func testUnknownFieldsAtEveryLevelAreSkipped() throws {
        let unknown = WireBytes.unknownFields()
        let addItem = WireBytes.message(1, [
            WireBytes.string(1, "c1"), unknown, WireBytes.string(2, "al"), WireBytes.string(3, "i9"),
            WireBytes.varint(4, 4), WireBytes.varint(5, 300), WireBytes.varint(6, 5), unknown,
        ])
        let bytes = Array([
            unknown,
            WireBytes.message(1, [unknown, WireBytes.message(2, [unknown, addItem, unknown])]),
            WireBytes.varint(2, 2_000),
            WireBytes.message(3, [WireBytes.varint(1, 7), unknown, WireBytes.varint(2, 9)]),
            unknown,
        ].joined())
        let expected = CommandEnvelope(.addItem(AddItem(cart: "c1", actor: "al", item: "i9", quantity: 2,
                                                        unitPrice: Money(minorUnits: 150), expectedVersion: 5)),
                                       at: Timestamp(millisecondsSinceEpoch: 1_000), request: RequestKey(client: 7, request: 9))
        XCTAssertEqual(try CommandEnvelope(logEntryBytes: bytes), expected)
        XCTAssertEqual(try codableDecode(CommandEnvelope.self, bytes), expected)
    }

    // A field written twice takes its last value; the earlier one is never read, even when it
    // would not decode (here a quantity written as a string). An unknown command case next to
    // a known one is skipped like any unknown field.
    func testARepeatedFieldTakesItsLastValueAndEarlierOnesAreNotRead() throws {
        let removeItem = WireBytes.message(1, [
            WireBytes.string(1, "old"), WireBytes.string(1, "c1"), WireBytes.string(2, "al"),
            WireBytes.varint(4, 1), WireBytes.string(3, "i9"), WireBytes.varint(4, 3),
        ])
        let bytes = Array([
            WireBytes.varint(2, 77),
            WireBytes.message(1, [WireBytes.message(99, [WireBytes.varint(1, 1)]), WireBytes.message(3, [removeItem])]),
            WireBytes.varint(2, 2_000),
        ].joined())
        let expected = CommandEnvelope(.removeItem(RemoveItem(cart: "c1", actor: "al", item: "i9", expectedVersion: 3)),
                                       at: Timestamp(millisecondsSinceEpoch: 1_000))
        XCTAssertEqual(try CommandEnvelope(logEntryBytes: bytes), expected)
        XCTAssertEqual(try codableDecode(CommandEnvelope.self, bytes), expected)
    }

    // A command message naming no known case (a command this node does not know) or two
    // different cases is refused by both paths with the same error kind.
    func testACommandWithNoKnownCaseOrTwoCasesIsRefused() throws {
        let createCart = WireBytes.message(1, [WireBytes.message(1, [WireBytes.string(1, "c1"), WireBytes.string(2, "al")])])
        let shapes: [(String, [UInt8])] = [
            ("no case", []),
            ("unknown case only", WireBytes.message(99, [])),
            ("two cases", Array([WireBytes.message(1, [createCart]), WireBytes.message(5, [])].joined())),
            ("case without payload", WireBytes.message(1, [])),
        ]
        for (name, command) in shapes {
            let bytes = Array([WireBytes.message(1, [command]), WireBytes.varint(2, 2)].joined())
            XCTAssertThrowsError(try CommandEnvelope(logEntryBytes: bytes), name)
            assertSameAnswer(bytes, name)
        }
    }

    // The log is CRC-checked, but a reader still never trusts it: every prefix of valid
    // entries gets the same answer both ways (an envelope or a typed error), never a crash.
    func testTruncationAtEveryOffsetGetsTheCodableAnswer() throws {
        let seed = seed()
        var generator = EnvelopeGenerator(seed: seed)
        for iteration in 0..<40 {
            let bytes = try generator.envelope().logEntryBytes()
            for length in 0..<bytes.count {
                assertSameAnswer(Array(bytes[..<length]), "seed \(seed) iteration \(iteration) length \(length)")
            }
        }
    }

    // Random byte changes, insertions and deletions in valid entries, then wholly random
    // bytes: the same answer both ways for each, never a crash.
    func testMutatedAndRandomBytesGetTheCodableAnswer() throws {
        let seed = seed()
        var generator = EnvelopeGenerator(seed: seed)
        for iteration in 0..<mutationsPerRun {
            var bytes = try generator.envelope().logEntryBytes()
            for _ in 0..<Int.random(in: 1...3, using: &generator.random) {
                mutate(&bytes, using: &generator.random)
            }
            assertSameAnswer(bytes, "seed \(seed) mutation \(iteration): \(bytes)")
        }
        for iteration in 0..<randomInputsPerRun {
            let bytes = (0..<Int.random(in: 0...64, using: &generator.random)).map { _ in UInt8.random(in: 0...255, using: &generator.random) }
            assertSameAnswer(bytes, "seed \(seed) random input \(iteration): \(bytes)")
        }
    }

    // MARK: helpers

    /// The Codable paths: inside these functions `T` is only known to be Codable, so the
    /// generic encoder and decoder run even for a `WireMessage`.
    private func codableEncode<T: Encodable>(_ value: T) throws -> [UInt8] { try BinaryEncoder().encode(value) }
    private func codableDecode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws(WireEncodingError) -> T {
        try BinaryDecoder().decode(type, from: bytes)
    }

    private func assertSameAnswer(_ bytes: [UInt8], _ context: String, file: StaticString = #filePath, line: UInt = #line) {
        let fast = Result { () throws(WireEncodingError) in try CommandEnvelope(logEntryBytes: bytes) }
        let codable = Result { () throws(WireEncodingError) in try codableDecode(CommandEnvelope.self, bytes) }
        switch (fast, codable) {
        case (.success(let fastValue), .success(let codableValue)):
            XCTAssertEqual(fastValue, codableValue, context, file: file, line: line)
        case (.failure(let fastError), .failure(let codableError)):
            XCTAssertEqual(fastError.kind, codableError.kind, "\(context)\nfast: \(fastError)\ncodable: \(codableError)", file: file, line: line)
        default:
            XCTFail("\(context)\nfast: \(fast)\ncodable: \(codable)", file: file, line: line)
        }
    }

    private func mutate(_ bytes: inout [UInt8], using random: inout SeededRandom) {
        let position = Int.random(in: 0...bytes.count, using: &random)
        switch Int.random(in: 0..<3, using: &random) {
        case 0 where position < bytes.count: bytes[position] = UInt8.random(in: 0...255, using: &random)
        case 1 where position < bytes.count: bytes.remove(at: position)
        default: bytes.insert(UInt8.random(in: 0...255, using: &random), at: position)
        }
    }
}

/// Hand-built encodings, for inputs the encoder never writes (unknown and repeated fields).
private enum WireBytes {
    static func varintBytes(_ value: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        Varint.append(value, to: &bytes)
        return bytes
    }

    static func tag(_ field: UInt32, _ wireType: WireType) -> [UInt8] {
        varintBytes(FieldTag.make(field: field, wireType: wireType))
    }

    static func varint(_ field: UInt32, _ value: UInt64) -> [UInt8] { tag(field, .varint) + varintBytes(value) }

    static func bytes(_ field: UInt32, _ value: [UInt8]) -> [UInt8] {
        tag(field, .lengthDelimited) + varintBytes(UInt64(value.count)) + value
    }

    static func string(_ field: UInt32, _ value: String) -> [UInt8] { bytes(field, Array(value.utf8)) }

    static func message(_ field: UInt32, _ parts: [[UInt8]]) -> [UInt8] { bytes(field, Array(parts.joined())) }

    /// One unknown field of each wire type, numbered above every field the envelope uses.
    static func unknownFields() -> [UInt8] {
        Array([
            varint(100, 5),
            tag(101, .fixed64) + [1, 2, 3, 4, 5, 6, 7, 8],
            tag(102, .fixed32) + [1, 2, 3, 4],
            string(103, "future"),
        ].joined())
    }
}
