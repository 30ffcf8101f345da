import CartAPI
import CartDomain
import CartRaft
import CartRPC
import CartTypes
import CartWire
import NIOCore
import XCTest

/// The API's messages survive the wire encoding unchanged, and the catalogue is consistent.
final class CartAPIEncodingTests: XCTestCase {
    private func roundTrip<M: RPCMessage & Equatable>(_ message: M, file: StaticString = #filePath, line: UInt = #line) throws {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        try message.encodeRPC(into: &buffer)
        XCTAssertEqual(try M.decodeRPC(from: buffer), message, file: file, line: line)
    }

    private let key = RequestKey(client: 7, request: 42)

    // A client that sends every cart request gets the same values decoded on the server,
    // optional fields included (absent and present).
    func testEveryCartRequestRoundTripsWithAndWithoutOptionalFields() throws {
        try roundTrip(CreateCartRequest(request: key))
        try roundTrip(CreateCartRequest(cart: "cart-1", request: key))
        try roundTrip(GetCartRequest(cart: "cart-1"))
        try roundTrip(GetCartRequest(cart: "cart-1", local: true))
        try roundTrip(AddItemRequest(cart: "c", item: "sku-42", quantity: 2, request: key))
        try roundTrip(AddItemRequest(cart: "c", item: "sku-42", quantity: 2, expectedVersion: 7, request: key))
        try roundTrip(RemoveItemRequest(cart: "c", item: "sku-42", expectedVersion: 3, request: key))
        try roundTrip(SetQuantityRequest(cart: "c", item: "sku-42", quantity: 9, request: key))
        try roundTrip(ShareCartRequest(cart: "c", users: ["bob", "carol"], request: key))
        try roundTrip(UnshareCartRequest(cart: "c", user: "bob", request: key))
        try roundTrip(CheckoutRequest(cart: "c", request: key))
        try roundTrip(CartEventsRequest(cart: "c", fromSeq: 5, eventsMax: 10))
        try roundTrip(CartEventsRequest(cart: "c", fromSeq: 5, eventsMax: 10, local: true))
        try roundTrip(WatchRequest(cart: "c", fromSeq: 0))
    }

    // Replies carry domain values (carts, events, items) through the same encoding.
    func testRepliesCarryingDomainValuesRoundTrip() throws {
        var state = PartitionState()
        let now = Timestamp(millisecondsSinceEpoch: 1_000)
        state.apply(.createCart(CreateCart(cart: "c", owner: "alice")), at: now)
        let added = try state.apply(.addItem(AddItem(cart: "c", actor: "alice", item: "sku", quantity: 2,
                                                   unitPrice: Money(minorUnits: 1250))), at: now).get()
        let cart = state.carts["c"]!
        try roundTrip(CartReply(cart: cart, leaderHint: LeaderHint(nodeID: 2, address: "127.0.0.1:7401")))
        try roundTrip(CartWriteReply(cart: "c", version: cart.version, seq: cart.seq))
        guard case .cart(let event) = added.first else { return XCTFail("expected a cart event") }
        try roundTrip(WatchItem(event: event))
        try roundTrip(WatchItem(event: event, committedAtMicros: 1_700_000_000_123_456))
        try roundTrip(CartEventsReply(events: [event], cartSeq: cart.seq))
        let position = ReplicaPosition(node: 3, appliedIndex: 1_234, commitIndex: 1_240, leader: .none)
        try roundTrip(CartReply(cart: cart, servedBy: position))
        try roundTrip(CartEventsReply(events: [event], cartSeq: cart.seq, servedBy: position))
        try roundTrip(ItemReply(item: Item(id: "sku", name: "Beans", price: Money(minorUnits: 1250), stock: 5)))
        try roundTrip(ProposeCommandReply(outcome: .accepted(added)))
        try roundTrip(ProposeCommandReply(outcome: .refused(.insufficientStock(item: "sku", available: 1))))
    }

    // The watch item's commit time is a field added after the first version: a client that
    // predates it skips it, and an item from a node that predates it reads as "no time".
    func testWatchItemCommitTimeIsCompatibleWithReadersAndWritersThatPredateIt() throws {
        struct FirstWatchItem: Codable, Hashable, Sendable, RPCMessage {
            var event: CartEvent
            enum CodingKeys: Int, CodingKey { case event = 1 }
        }
        var state = PartitionState()
        let created = try state.apply(.createCart(CreateCart(cart: "c", owner: "alice")),
                                      at: Timestamp(millisecondsSinceEpoch: 1_000)).get()
        guard case .cart(let event) = created.first else { return XCTFail("expected a cart event") }

        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        try WatchItem(event: event, committedAtMicros: 1_700_000_000_123_456).encodeRPC(into: &buffer)
        XCTAssertEqual(try FirstWatchItem.decodeRPC(from: buffer), FirstWatchItem(event: event))

        buffer.clear()
        try FirstWatchItem(event: event).encodeRPC(into: &buffer)
        XCTAssertEqual(try WatchItem.decodeRPC(from: buffer), WatchItem(event: event, committedAtMicros: nil))
    }

    // `local` and `servedBy` came after the first version of `Cart.get`: a request without
    // `local` is a linearizable read, and a reader that predates `servedBy` skips it.
    func testLocalReadFieldsAreCompatibleWithReadersAndWritersThatPredateThem() throws {
        struct FirstGetCartRequest: Codable, Hashable, Sendable, RPCMessage {
            var cart: CartID
            enum CodingKeys: Int, CodingKey { case cart = 1 }
        }
        struct FirstCartEventsReply: Codable, Hashable, Sendable, RPCMessage {
            var events: [CartEvent]
            var cartSeq: Seq
            enum CodingKeys: Int, CodingKey { case events = 1, cartSeq = 2 }
        }
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        try FirstGetCartRequest(cart: "c").encodeRPC(into: &buffer)
        XCTAssertEqual(try GetCartRequest.decodeRPC(from: buffer), GetCartRequest(cart: "c", local: nil))

        buffer.clear()
        let position = ReplicaPosition(node: 2, appliedIndex: 99, commitIndex: 99, leader: 1)
        try CartEventsReply(events: [], cartSeq: 7, servedBy: position).encodeRPC(into: &buffer)
        XCTAssertEqual(try FirstCartEventsReply.decodeRPC(from: buffer), FirstCartEventsReply(events: [], cartSeq: 7))
    }

    // Raft messages of many partitions travel in one batch, entries and snapshots included.
    // The status's `placement` came after its first version: a reader that predates it skips
    // it, and a status from a node that predates it reads as "no placement" (the client then
    // takes the replicas of the partitions the node hosts).
    func testStatusPlacementIsCompatibleWithReadersAndWritersThatPredateIt() throws {
        struct FirstClusterStatusReply: Codable, Hashable, Sendable, RPCMessage {
            var node: NodeID
            var nodes: [NodeAddress]
            var partitionCount: UInt32
            var partitions: [PartitionStatus]
            enum CodingKeys: Int, CodingKey { case node = 1, nodes = 2, partitionCount = 3, partitions = 4 }
        }
        let nodes = [NodeAddress(node: 1, clientAddress: "127.0.0.1:7401")]
        let hosted = PartitionStatus(partition: 1, replicas: [1, 2, 3], role: .leader, leader: 1, term: 4,
                                     commitIndex: 9, appliedIndex: 9, lastIndex: 9, snapshotIndex: 0)
        let placement = [PartitionReplicas(partition: 0, replicas: [4, 5, 1]), PartitionReplicas(partition: 1, replicas: [1, 2, 3])]
        let reply = ClusterStatusReply(node: 1, nodes: nodes, partitionCount: 2, partitions: [hosted], placement: placement)
        try roundTrip(reply)
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        try reply.encodeRPC(into: &buffer)
        XCTAssertEqual(try FirstClusterStatusReply.decodeRPC(from: buffer),
                       FirstClusterStatusReply(node: 1, nodes: nodes, partitionCount: 2, partitions: [hosted]))
        buffer.clear()
        try FirstClusterStatusReply(node: 1, nodes: nodes, partitionCount: 2, partitions: [hosted]).encodeRPC(into: &buffer)
        XCTAssertEqual(try ClusterStatusReply.decodeRPC(from: buffer).placement, nil)
    }

    func testRaftBatchRoundTripsMessagesOfSeveralPartitions() throws {
        var append = Message(kind: .append, from: 1, to: 2, term: 3)
        append.entries = [Entry(term: 3, index: 10, data: [1, 2, 3]), Entry(term: 3, index: 11, data: [])]
        append.commit = 9
        var snapshot = Message(kind: .snapshot, from: 1, to: 2, term: 3)
        snapshot.snapshot = Snapshot(metadata: SnapshotMetadata(index: 5, term: 2, configuration: Configuration(voters: [1, 2, 3])),
                                     data: [9, 9])
        try roundTrip(RaftBatch(from: 1, messages: [PartitionRaftMessage(partition: 0, message: append),
                                                    PartitionRaftMessage(partition: 15, message: snapshot)]))
    }

    // Every method has its own id and name in its service's range.
    func testCatalogueHasUniqueIdsInEachServiceRange() {
        let catalogue = CartAPI.catalogue
        XCTAssertEqual(catalogue.all.count, MethodCatalogue.builtins.count + CartAPI.clientMethods.count + CartAPI.peerMethods.count)
        for method in CartAPI.clientMethods + CartAPI.peerMethods {
            let service = method.name.split(separator: ".").first.map(String.init) ?? ""
            let high = method.id.rawValue >> 8
            let expected: UInt16 = ["Cart": 1, "Item": 2, "User": 3, "Sync": 4, "Cluster": 5, "Peer": 6][service] ?? 0
            XCTAssertEqual(high, expected, "\(method) is outside its service's id range")
        }
        XCTAssertEqual(RPCMethod.syncWatch.kind, .serverStream)
    }

    // A refused command becomes the wire code of its category; a version conflict carries the version.
    func testDomainErrorsMapToWireCodes() {
        XCTAssertEqual(DomainError.versionConflict(current: 7).rpcError.code, .versionConflict)
        XCTAssertEqual(DomainError.versionConflict(current: 7).rpcError.currentVersion, 7)
        XCTAssertEqual(DomainError.permissionDenied("carol").rpcError.code, .permissionDenied)
        XCTAssertEqual(DomainError.cartNotFound("x").rpcError.code, .notFound)
        XCTAssertEqual(DomainError.insufficientStock(item: "sku", available: 0).rpcError.code, .failedPrecondition)
        XCTAssertTrue(DomainError.insufficientStock(item: "sku", available: 0).rpcError.message.contains("sku"))
    }
}

/// Encodes a value through its Codable conformance only (never a hand-written fast path).
private struct ThroughCodable<T: Encodable>: Encodable {
    let value: T
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}

final class RaftBatchFastPathTests: XCTestCase {
    // The hand-written encoding of the Raft batch gives exactly the bytes of the Codable
    // encoding, for messages with and without entries, empty payloads, snapshots and
    // contexts, and decodes back to the same values.
    func testFastPathBytesEqualCodableBytes() throws {
        var append = Message(kind: .append, from: 1, to: 2, term: 3)
        append.entries = [Entry(term: 3, index: 10, data: [1, 2, 3]), Entry(term: 3, index: 11, data: [])]
        append.commit = 9
        append.logTerm = 2
        append.index = 9
        var heartbeat = Message(kind: .heartbeat, from: 1, to: 3, term: 3)
        heartbeat.context = [0, 0, 0, 0, 0, 0, 0, 7]
        var response = Message(kind: .appendResponse, from: 2, to: 1, term: 3)
        response.reject = true
        response.rejectHint = 4
        var snapshot = Message(kind: .snapshot, from: 1, to: 2, term: 3)
        snapshot.snapshot = Snapshot(metadata: SnapshotMetadata(index: 5, term: 2, configuration: Configuration(voters: [1, 2, 3])),
                                     data: [9, 9])
        snapshot.leadershipTransfer = true
        let batch = RaftBatch(from: 1, messages: [
            PartitionRaftMessage(partition: 0, message: append), PartitionRaftMessage(partition: 3, message: heartbeat),
            PartitionRaftMessage(partition: 7, message: response), PartitionRaftMessage(partition: 15, message: snapshot),
        ])
        let fast: [UInt8] = try BinaryEncoder().encode(batch)
        let generic: [UInt8] = try BinaryEncoder().encode(ThroughCodable(value: batch))
        XCTAssertEqual(fast, generic)
        XCTAssertEqual(try BinaryDecoder().decode(RaftBatch.self, from: fast), batch)
    }
}

final class HotMessagesFastPathTests: XCTestCase {
    private func assertSameBytes<T: WireMessage & Equatable>(_ value: T, file: StaticString = #filePath, line: UInt = #line) throws {
        let fast: [UInt8] = try BinaryEncoder().encode(value)
        let generic: [UInt8] = try BinaryEncoder().encode(ThroughCodable(value: value))
        XCTAssertEqual(fast, generic, "\(T.self)", file: file, line: line)
        XCTAssertEqual(try BinaryDecoder().decode(T.self, from: fast), value, file: file, line: line)
    }

    // The addItem request, its reply and their forwarded envelopes encode by hand to the
    // same bytes as through Codable, optional fields present or not.
    func testHotMessagesFastPathBytesEqualCodableBytes() throws {
        let key = RequestKey(client: 7, request: 300)
        try assertSameBytes(AddItemRequest(cart: "cart-1", item: "sku-42", quantity: 2, request: key))
        try assertSameBytes(AddItemRequest(cart: "cart-1", item: "sku-42", quantity: -1, expectedVersion: 9, request: key))
        try assertSameBytes(CartWriteReply(cart: "cart-1", version: 3, seq: 4))
        try assertSameBytes(CartWriteReply(cart: "cart-1", version: 3, seq: 4, leaderHint: LeaderHint(nodeID: 2, address: "127.0.0.1:7402")))
        try assertSameBytes(ForwardedCall(method: .cartAddItem, actor: "alice", payload: [1, 2, 3]))
        try assertSameBytes(ForwardedCall(method: .itemGet, actor: nil, payload: []))
        try assertSameBytes(ForwardedReply(payload: [4, 5]))
        try assertSameBytes(ForwardedReply(payload: []))
    }
}
