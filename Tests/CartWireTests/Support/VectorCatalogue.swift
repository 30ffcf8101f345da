import CartTypes
import CartWire
import Foundation
import NIOCore

/// The source list of the committed vectors. `VectorTests.testCommittedVectorsAreWhatTheCatalogueGenerates`
/// checks that the files match it (and rewrites them with WIRE_WRITE_VECTORS=1); every other
/// test reads the committed files.
enum VectorCatalogue {
    struct Value {
        var name: String
        var description: String
        var type: String
        var value: Any
        /// Fixed JSON for values whose JSONEncoder output is not deterministic (sets).
        var json: String? = nil
    }

    struct Invalid {
        var name: String
        var description: String
        var type: String
        var hex: String
        var error: String
        var limits: [(String, Int)] = []
    }

    struct FrameCase {
        var name: String
        var description: String
        var frame: Frame
        var payloadType: String?
        var payload: Any?
    }

    static var primitives: [Value] { [
        Value(name: "bool false", description: "Top-level scalars are field 1 of an implicit message: tag 0x08 = field 1, wire type 0.", type: "Bool", value: false),
        Value(name: "bool true", description: "Bool is a varint 0 or 1.", type: "Bool", value: true),
        Value(name: "uint8 0", description: "Zero still takes one varint byte.", type: "UInt8", value: UInt8(0)),
        Value(name: "uint8 127", description: "The largest one-byte varint.", type: "UInt8", value: UInt8(127)),
        Value(name: "uint8 128", description: "128 needs two bytes: 0x80 (low 7 bits 0, more follows), 0x01.", type: "UInt8", value: UInt8(128)),
        Value(name: "uint16 300", description: "300 = 0b10_0101100: 0xac (0x2c | 0x80), 0x02.", type: "UInt16", value: UInt16(300)),
        Value(name: "uint32 max", description: "2^32-1 takes five bytes.", type: "UInt32", value: UInt32.max),
        Value(name: "uint64 16384", description: "2^14 is the first three-byte varint.", type: "UInt64", value: UInt64(16384)),
        Value(name: "uint64 max", description: "2^64-1 takes ten bytes; the tenth is 0x01.", type: "UInt64", value: UInt64.max),
        Value(name: "uint 150", description: "UInt is 64 bits on the wire.", type: "UInt", value: UInt(150)),
        Value(name: "int64 0", description: "Signed integers are zigzag-mapped: 0 → 0.", type: "Int64", value: Int64(0)),
        Value(name: "int64 -1", description: "Zigzag: -1 → 1.", type: "Int64", value: Int64(-1)),
        Value(name: "int64 1", description: "Zigzag: 1 → 2.", type: "Int64", value: Int64(1)),
        Value(name: "int64 -64", description: "Zigzag: -64 → 127, still one byte.", type: "Int64", value: Int64(-64)),
        Value(name: "int64 64", description: "Zigzag: 64 → 128, two bytes.", type: "Int64", value: Int64(64)),
        Value(name: "int64 min", description: "Zigzag: -2^63 → 2^64-1, ten bytes.", type: "Int64", value: Int64.min),
        Value(name: "int64 max", description: "Zigzag: 2^63-1 → 2^64-2.", type: "Int64", value: Int64.max),
        Value(name: "int32 min", description: "Every signed width uses the same zigzag varint.", type: "Int32", value: Int32.min),
        Value(name: "int16 1000", description: "Zigzag: 1000 → 2000.", type: "Int16", value: Int16(1000)),
        Value(name: "int8 -128", description: "Zigzag: -128 → 255.", type: "Int8", value: Int8(-128)),
        Value(name: "int 150", description: "Int is 64 bits on the wire.", type: "Int", value: 150),
        Value(name: "float 1.5", description: "Float: wire type 5 (tag 0x0d), IEEE 754 binary32 little-endian.", type: "Float", value: Float(1.5)),
        Value(name: "float -0", description: "Negative zero keeps its sign bit.", type: "Float", value: Float(-0.0)),
        Value(name: "float infinity", description: "Infinities are plain bit patterns.", type: "Float", value: Float.infinity),
        Value(name: "double 1.5", description: "Double: wire type 1 (tag 0x09), IEEE 754 binary64 little-endian.", type: "Double", value: 1.5),
        Value(name: "double -infinity", description: "Negative infinity.", type: "Double", value: -Double.infinity),
        Value(name: "double smallest subnormal", description: "Subnormals are kept exactly.", type: "Double", value: Double.leastNonzeroMagnitude),
        Value(name: "string empty", description: "Strings are length-delimited (wire type 2, tag 0x0a): length 0, no bytes.", type: "String", value: ""),
        Value(name: "string hello", description: "UTF-8 bytes after a varint length.", type: "String", value: "hello"),
        Value(name: "string non-ascii", description: "The length counts UTF-8 bytes, not characters: é is 2 bytes, 🛒 is 4.", type: "String", value: "é🛒"),
        Value(name: "bytes empty", description: "[UInt8] is length-delimited, not a repeated field.", type: "[UInt8]", value: [UInt8]()),
        Value(name: "bytes 00 01 ff", description: "Raw bytes after the length.", type: "[UInt8]", value: [UInt8]([0, 1, 255])),
        Value(name: "data", description: "Data encodes exactly like [UInt8].", type: "Data", value: Data([0xde, 0xad, 0xbe, 0xef])),
        Value(name: "uuid", description: "A UUID is 16 length-delimited bytes in RFC 4122 order.", type: "UUID", value: UUID(uuidString: "0B6C1E2A-5A3E-4F5E-9A55-0D1F2E3C4B5A")!),
        Value(name: "date epoch", description: "Dates are zigzag Int64 milliseconds since 1970-01-01T00:00:00Z.", type: "Date", value: Date(timeIntervalSince1970: 0)),
        Value(name: "date 2025-11-24T16:00:00.123Z", description: "1764000000123 ms, zigzag-doubled.", type: "Date", value: Date(timeIntervalSince1970: 1_764_000_000.123)),
        Value(name: "date before epoch", description: "Negative milliseconds: 1969-12-31T23:59:59.000Z is -1000.", type: "Date", value: Date(timeIntervalSince1970: -1)),
        Value(name: "optional absent", description: "A nil optional is an absent field: a top-level nil is no bytes at all.", type: "Int64?", value: Int64?.none as Any),
        Value(name: "optional present", description: "A present optional is encoded like the value.", type: "Int64?", value: Int64?.some(5) as Any),
        Value(name: "repeated uint32", description: "Arrays are repeated fields: one tag per element, not packed.", type: "[UInt32]", value: [UInt32]([1, 2, 300])),
        Value(name: "repeated string", description: "Each element is its own length-delimited field.", type: "[String]", value: ["a", "bc"]),
        Value(name: "repeated empty", description: "An empty array writes nothing; absent repeated fields decode as empty.", type: "[UInt32]", value: [UInt32]()),
        Value(name: "nested repeated", description: "An array inside an array becomes a message whose field 1 is the inner repeated field; [] is an empty message.", type: "[[UInt32]]", value: [[UInt32]]([[1], [], [2, 3]])),
        Value(name: "set sorted", description: "Set elements are sorted by their encoded bytes, so equal sets give equal bytes.", type: "Set<String>", value: Set(["b", "a", "c"]), json: #"["c","a","b"]"#),
        Value(name: "map sorted", description: "A dictionary is a repeated message {1: key, 2: value}, entries sorted by encoded bytes.", type: "[String: Int64]", value: ["b": Int64(2), "a": Int64(1)]),
        Value(name: "identifier", description: "Identifiers (NodeID, CartID, …) encode as their bare raw value.", type: "NodeID", value: NodeID(3)),
        Value(name: "enum raw value", description: "An enum with raw values encodes its raw value.", type: "CartStatus", value: CartStatus.checkedOut),
    ] }

    static var messages: [Value] { [
        Value(name: "CartLine without note", description: "Fields in CodingKeys order; item = 1 (string), quantity = 2 (zigzag), priceCents = 3 (zigzag); nil note absent.", type: "CartLine",
              value: CartLine(item: "sku-1", quantity: 2, priceCents: 1999, note: nil)),
        Value(name: "CartLine with note", description: "The optional note as field 4.", type: "CartLine",
              value: CartLine(item: "sku-1", quantity: 1, priceCents: 5, note: "gift")),
        Value(name: "CartChange itemAdded", description: "An enum with associated values is a message with one field, the case number (1), holding the payload message; unlabeled values are fields 1, 2, ….", type: "CartChange",
              value: CartChange.itemAdded("sku-7", 3)),
        Value(name: "CartChange shared", description: "Labeled associated values use the case's own CodingKeys.", type: "CartChange",
              value: CartChange.shared(users: ["bob", "carol"])),
        Value(name: "CartChange checkedOut", description: "A case without values holds an empty message.", type: "CartChange", value: CartChange.checkedOut),
        Value(name: "CartSnapshot", description: "Nested messages (lines), a sorted set (sharedWith), an enum raw value, dates.", type: "CartSnapshot",
              value: CartSnapshot(cart: "c1", owner: "alice", lines: [CartLine(item: "sku-1", quantity: 2, priceCents: 1999, note: nil)],
                                  sharedWith: ["carol", "bob"], status: .active, version: 4,
                                  createdAt: Date(timeIntervalSince1970: 1_700_000_000), updatedAt: Date(timeIntervalSince1970: 1_700_000_060)),
              json: #"{"cart":"c1","createdAt":1700000000000,"lines":[{"item":"sku-1","priceCents":1999,"quantity":2}],"owner":"alice","sharedWith":["bob","carol"],"status":1,"updatedAt":1700000060000,"version":4}"#),
        Value(name: "Tree three levels", description: "A recursive message: depth counts nested messages.", type: "Tree",
              value: Tree(children: [Tree(children: [Tree(children: [])]), Tree(children: [])])),
        Value(name: "Hello from a client", description: "Versions offered [1], role client (1), identity, auth token; nodeID absent.", type: "Hello",
              value: Hello(versions: [1], role: .client, identity: "cartctl/0.1", authToken: "tok")),
        Value(name: "Hello from a node", description: "Role node (2) with the node id; no token (mutual TLS authenticates nodes).", type: "Hello",
              value: Hello(versions: [1], role: .node, identity: "node-2", nodeID: 2)),
        Value(name: "HelloAck", description: "Chosen version 1, server identity, node id and limits.", type: "HelloAck",
              value: HelloAck(version: 1, identity: "node-1", nodeID: 1)),
        Value(name: "ErrorPayload notLeader", description: "Code 100 with a leader hint.", type: "ErrorPayload",
              value: ErrorPayload(code: .notLeader, message: "not leader", leaderHint: LeaderHint(nodeID: 2, address: "127.0.0.1:7402"))),
        Value(name: "ErrorPayload versionConflict", description: "Code 101 with the current version.", type: "ErrorPayload",
              value: ErrorPayload(code: .versionConflict, message: "stale", currentVersion: 9)),
        Value(name: "ErrorPayload resourceExhausted", description: "Code 8 with retry-after.", type: "ErrorPayload",
              value: ErrorPayload(code: .resourceExhausted, message: "slow down", retryAfterMs: 250)),
        Value(name: "GoAway", description: "Last accepted stream 7, code goingAway (107), reason.", type: "GoAway",
              value: GoAway(lastAcceptedStreamID: 7, reason: "draining")),
        Value(name: "Credit", description: "64 more stream items.", type: "Credit", value: Credit(count: 64)),
        Value(name: "Ping", description: "A nonce the pong echoes.", type: "Ping", value: Ping(nonce: 42)),
        Value(name: "Cancel with reason", description: "The reason is optional.", type: "Cancel", value: Cancel(reason: "user left")),
        Value(name: "Cancel empty", description: "No reason: an empty payload.", type: "Cancel", value: Cancel()),
        Value(name: "StreamEnd", description: "The number of items sent.", type: "StreamEnd", value: StreamEnd(itemCount: 2)),
    ] }

    static func payload<T: Encodable>(_ value: T) -> ByteBuffer {
        ByteBuffer(bytes: try! BinaryEncoder().encode(value))
    }

    static var frames: [FrameCase] { [
        FrameCase(name: "hello", description: "The client's first frame, on stream 0.",
                  frame: Frame(.hello, stream: 0, payload: payload(Hello(versions: [1], role: .client, identity: "cartctl/0.1", authToken: "tok"))),
                  payloadType: "Hello", payload: Hello(versions: [1], role: .client, identity: "cartctl/0.1", authToken: "tok")),
        FrameCase(name: "helloAck", description: "The server's answer, on stream 0.",
                  frame: Frame(.helloAck, stream: 0, payload: payload(HelloAck(version: 1, identity: "node-1", nodeID: 1))),
                  payloadType: "HelloAck", payload: HelloAck(version: 1, identity: "node-1", nodeID: 1)),
        FrameCase(name: "one-way request", description: "Calls method 0x0601 (Peer.raft) on stream 9 asking for no answer: flags bit 1 (noReply) set; the callee writes nothing back on this stream.",
                  frame: Frame(.request, stream: 9, method: MethodID(0x0601), noReply: true, payload: payload("hi")),
                  payloadType: "String", payload: "hi"),
        FrameCase(name: "request with deadline", description: "Calls method 1 (echo) on stream 1 with 1500 ms to answer; flags bit 0 set and 8 deadline bytes follow the header.",
                  frame: Frame(.request, stream: 1, method: .echo, deadlineMs: 1500, payload: payload("hi")),
                  payloadType: "String", payload: "hi"),
        FrameCase(name: "request without deadline", description: "Flags 0: no deadline bytes.",
                  frame: Frame(.request, stream: 3, method: .echoStream, payload: payload("hi")),
                  payloadType: "String", payload: "hi"),
        FrameCase(name: "response", description: "The result of stream 1.",
                  frame: Frame(.response, stream: 1, payload: payload("hi")), payloadType: "String", payload: "hi"),
        FrameCase(name: "error on a stream", description: "Stream 1 failed: not leader, with a hint.",
                  frame: Frame(.error, stream: 1, payload: payload(ErrorPayload(code: .notLeader, message: "not leader", leaderHint: LeaderHint(nodeID: 2, address: "127.0.0.1:7402")))),
                  payloadType: "ErrorPayload", payload: ErrorPayload(code: .notLeader, message: "not leader", leaderHint: LeaderHint(nodeID: 2, address: "127.0.0.1:7402"))),
        FrameCase(name: "error on the connection", description: "Stream 0: the server refuses the offered versions, then closes.",
                  frame: Frame(.error, stream: 0, payload: payload(ErrorPayload(code: .unsupportedVersion, message: "supported versions: [1]"))),
                  payloadType: "ErrorPayload", payload: ErrorPayload(code: .unsupportedVersion, message: "supported versions: [1]")),
        FrameCase(name: "streamItem", description: "One item of server stream 3.",
                  frame: Frame(.streamItem, stream: 3, payload: payload(CartChange.itemAdded("sku-7", 3))),
                  payloadType: "CartChange", payload: CartChange.itemAdded("sku-7", 3)),
        FrameCase(name: "streamEnd", description: "Stream 3 finished after 2 items.",
                  frame: Frame(.streamEnd, stream: 3, payload: payload(StreamEnd(itemCount: 2))), payloadType: "StreamEnd", payload: StreamEnd(itemCount: 2)),
        FrameCase(name: "cancel", description: "The caller gives up on stream 3.",
                  frame: Frame(.cancel, stream: 3, payload: payload(Cancel(reason: "user left"))), payloadType: "Cancel", payload: Cancel(reason: "user left")),
        FrameCase(name: "credit", description: "The caller allows 64 more items on stream 3.",
                  frame: Frame(.credit, stream: 3, payload: payload(Credit(count: 64))), payloadType: "Credit", payload: Credit(count: 64)),
        FrameCase(name: "ping", description: "Liveness probe on stream 0.",
                  frame: Frame(.ping, stream: 0, payload: payload(Ping(nonce: 42))), payloadType: "Ping", payload: Ping(nonce: 42)),
        FrameCase(name: "pong", description: "The answer echoes the nonce.",
                  frame: Frame(.pong, stream: 0, payload: payload(Ping(nonce: 42))), payloadType: "Ping", payload: Ping(nonce: 42)),
        FrameCase(name: "goAway", description: "The server drains: streams up to 7 finish, later ones are refused.",
                  frame: Frame(.goAway, stream: 0, payload: payload(GoAway(lastAcceptedStreamID: 7, reason: "draining"))),
                  payloadType: "GoAway", payload: GoAway(lastAcceptedStreamID: 7, reason: "draining")),
        FrameCase(name: "response with empty payload", description: "A payload may be empty: the length prefix is exactly the header.",
                  frame: Frame(.response, stream: 5), payloadType: nil, payload: nil),
    ] }

    static let invalidMessages: [Invalid] = [
        Invalid(name: "truncated varint", description: "A varint whose last byte still has the continuation bit.", type: "UInt64", hex: "08 80", error: "truncated"),
        Invalid(name: "varint longer than ten bytes", description: "Eleven bytes can never be a 64-bit varint.", type: "UInt64", hex: "08 ff ff ff ff ff ff ff ff ff ff 01", error: "varintOverflow"),
        Invalid(name: "varint above 2^64-1", description: "The tenth byte may only be 0 or 1.", type: "UInt64", hex: "08 ff ff ff ff ff ff ff ff ff 02", error: "varintOverflow"),
        Invalid(name: "wire type 3", description: "Protobuf groups do not exist here.", type: "CartLine", hex: "0b 01", error: "invalidWireType"),
        Invalid(name: "wire type 7", description: "Unassigned wire type.", type: "CartLine", hex: "0f 01", error: "invalidWireType"),
        Invalid(name: "field number 0", description: "Field numbers start at 1.", type: "CartLine", hex: "00 01", error: "invalidFieldNumber"),
        Invalid(name: "field number 2^29", description: "Field numbers end at 2^29-1.", type: "CartLine", hex: "80 80 80 80 10 01", error: "invalidFieldNumber"),
        Invalid(name: "huge length prefix", description: "A length of 2^62 must fail by comparison with what remains, before any allocation.", type: "String", hex: "0a 80 80 80 80 80 80 80 80 40 61", error: "lengthExceedsInput"),
        Invalid(name: "length one past the end", description: "Length 2 with one byte left.", type: "String", hex: "0a 02 61", error: "lengthExceedsInput"),
        Invalid(name: "fixed64 cut short", description: "A double needs 8 bytes.", type: "Double", hex: "09 00 00 00", error: "truncated"),
        Invalid(name: "missing required field", description: "CartLine without quantity (field 2).", type: "CartLine", hex: "0a 01 61 18 01", error: "missingField"),
        Invalid(name: "empty input for a scalar", description: "The implicit field 1 is absent.", type: "UInt64", hex: "", error: "missingField"),
        Invalid(name: "string where an integer belongs", description: "Field 1 of CartLine as a varint.", type: "CartLine", hex: "08 01 10 02 18 04", error: "typeMismatch"),
        Invalid(name: "bool 2", description: "Bool must be 0 or 1.", type: "Bool", hex: "08 02", error: "invalidValue"),
        Invalid(name: "int8 out of range", description: "Zigzag 256 is 128, beyond Int8.", type: "Int8", hex: "08 80 02", error: "invalidValue"),
        Invalid(name: "uuid of 2 bytes", description: "A UUID needs exactly 16 bytes.", type: "UUID", hex: "0a 02 01 02", error: "invalidValue"),
        Invalid(name: "enum raw value without a case", description: "CartStatus has no case 9.", type: "CartStatus", hex: "08 09", error: "invalidValue"),
        Invalid(name: "enum with two cases", description: "An associated-value enum must have exactly one case field.", type: "CartChange", hex: "22 00 22 00 1a 00", error: "invalidValue"),
        Invalid(name: "date out of range", description: "8.64e15 + 1 ms: beyond ±8.64e15 ms (JavaScript's Date range).", type: "Date", hex: "08 82 80 e0 ad 98 82 d9 1e", error: "invalidValue"),
        Invalid(name: "invalid utf-8", description: "0xff never occurs in UTF-8.", type: "String", hex: "0a 02 61 ff", error: "invalidUTF8"),
        Invalid(name: "overlong utf-8", description: "0xc0 0x80 is an overlong encoding of NUL.", type: "String", hex: "0a 02 c0 80", error: "invalidUTF8"),
        Invalid(name: "nesting beyond depth-max", description: "Tree nested 4 deep with depth-max 2.", type: "Tree", hex: "0a 06 0a 04 0a 02 0a 00", error: "depthExceeded", limits: [("depth-max", 2)]),
        Invalid(name: "more elements than elements-max", description: "Three elements with elements-max 2.", type: "[UInt32]", hex: "08 01 08 02 08 03", error: "elementsExceeded", limits: [("elements-max", 2)]),
        Invalid(name: "more bytes than bytes-max", description: "Three bytes with bytes-max 2.", type: "UInt64", hex: "08 80 01", error: "bytesExceeded", limits: [("bytes-max", 2)]),
    ]

    static let invalidFrames: [Invalid] = [
        Invalid(name: "length prefix above frame-bytes-max", description: "1025 announced with a limit of 1024: refused from the 4 prefix bytes alone.", type: "frame", hex: "00 00 04 01", error: "frameTooLarge", limits: [("frame-bytes-max", 1024)]),
        Invalid(name: "length prefix of 1 MiB + 1", description: "Above the default frame-bytes-max of 1 MiB.", type: "frame", hex: "00 10 00 01", error: "frameTooLarge"),
        Invalid(name: "length prefix below the header size", description: "A frame cannot be shorter than its 10-byte header.", type: "frame", hex: "00 00 00 03 01 0a 00", error: "frameTooShort"),
        Invalid(name: "unsupported version", description: "Version byte 2.", type: "frame", hex: "00 00 00 0a 02 04 00 00 00 00 00 01 00 00", error: "unsupportedVersion"),
        Invalid(name: "frame type 0", description: "No frame type 0.", type: "frame", hex: "00 00 00 0a 01 00 00 00 00 00 00 01 00 00", error: "unknownFrameType"),
        Invalid(name: "frame type 13", description: "Above the last defined type.", type: "frame", hex: "00 00 00 0a 01 0d 00 00 00 00 00 01 00 00", error: "unknownFrameType"),
        Invalid(name: "undefined flag bit", description: "Flag 0x8000 is not defined in version 1.", type: "frame", hex: "00 00 00 0a 01 04 80 00 00 00 00 01 00 00", error: "invalidFlags"),
        Invalid(name: "deadline on a response", description: "Only requests carry deadlines.", type: "frame", hex: "00 00 00 12 01 04 00 01 00 00 00 01 00 00 00 00 00 00 00 00 00 09", error: "invalidFlags"),
        Invalid(name: "noReply on a response", description: "Only requests may ask for no reply.", type: "frame", hex: "00 00 00 0a 01 04 00 02 00 00 00 01 00 00", error: "invalidFlags"),
        Invalid(name: "deadline flag without deadline bytes", description: "Flag set but the frame ends after the fixed header.", type: "frame", hex: "00 00 00 0a 01 03 00 01 00 00 00 01 00 01", error: "frameTooShort"),
        Invalid(name: "ping on a stream", description: "Connection frames use stream 0.", type: "frame", hex: "00 00 00 0a 01 0a 00 00 00 00 00 05 00 00", error: "invalidStreamID"),
        Invalid(name: "request on stream 0", description: "Stream frames need a stream id.", type: "frame", hex: "00 00 00 0a 01 03 00 00 00 00 00 00 00 01", error: "invalidStreamID"),
        Invalid(name: "request without method", description: "Method id 0 is none.", type: "frame", hex: "00 00 00 0a 01 03 00 00 00 00 00 01 00 00", error: "invalidMethodID"),
        Invalid(name: "response with a method id", description: "Only requests name a method.", type: "frame", hex: "00 00 00 0a 01 04 00 00 00 00 00 01 00 01", error: "invalidMethodID"),
    ]
}
