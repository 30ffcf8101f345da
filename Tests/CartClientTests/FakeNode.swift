import CartAPI
import CartClient
import CartDomain
import CartRPC
import CartTypes
import CartWire
import NIOPosix
import Foundation

/// A real RPC server on a loopback port answering cart methods with scripted replies, so a
/// test can make a node say "not leader, try over there", fail, or misbehave on purpose.
final class FakeNode: @unchecked Sendable {
    let server: RPCServer
    private(set) var port = 0
    private let lock = NSLock()
    private var keys: [RequestKey] = []
    private var watchFrom: [Seq] = []
    private var statusCalls = 0

    init() {
        var configuration = RPCServerConfiguration(port: 0, security: .plaintext, identity: "fake-node")
        configuration.drainTimeoutMs = 200
        server = RPCServer(configuration: configuration)
    }

    var endpoint: Endpoint { Endpoint(host: "127.0.0.1", port: port) }

    /// Request keys of every `Cart.addItem` this node received, in order.
    var addItemKeys: [RequestKey] { lock.withLock { keys } }
    var watchRequests: [Seq] { lock.withLock { watchFrom } }

    /// Serves `Cart.addItem` with `answer(callNumber)` (0-based).
    func onAddItem(_ answer: @escaping @Sendable (Int) throws -> CartWriteReply) {
        server.register(.cartAddItem) { [self] request, _ in
            let call = lock.withLock { () -> Int in
                keys.append(request.request)
                return keys.count - 1
            }
            return try answer(call)
        }
    }

    /// Serves `Cart.get` with `answer(request)`; the calls are counted.
    func onGetCart(_ answer: @escaping @Sendable (GetCartRequest) throws -> CartReply) {
        server.register(.cartGet) { [self] request, _ in
            lock.withLock { getCartCalls += 1 }
            return try answer(request)
        }
    }

    private var getCartCalls = 0
    var cartGets: Int { lock.withLock { getCartCalls } }

    /// Serves `Cluster.status` with `answer(callNumber)` (0-based); the calls are counted.
    func onClusterStatus(_ answer: @escaping @Sendable (Int) throws -> ClusterStatusReply) {
        server.register(.clusterStatus) { [self] _, _ in
            let call = lock.withLock { () -> Int in
                statusCalls += 1
                return statusCalls - 1
            }
            return try answer(call)
        }
    }

    var clusterStatusCalls: Int { lock.withLock { statusCalls } }

    /// Serves `Sync.watch`: `events(fromSeq, call)` are streamed, then `end` (nil: a normal end).
    func onWatch(_ script: @escaping @Sendable (Seq, Int) -> (events: [CartEvent], end: RPCError?)) {
        server.registerStream(.syncWatch) { [self] request, _, writer in
            let call = lock.withLock { () -> Int in
                watchFrom.append(request.fromSeq)
                return watchFrom.count - 1
            }
            let (events, end) = script(request.fromSeq, call)
            for event in events { try await writer.send(WatchItem(event: event)) }
            if let end { throw end }
        }
    }

    /// Serves `Sync.watch` as a live stream: `events` from the requested seq on, then nothing
    /// more until the client goes away.
    func onWatchHolding(through last: UInt64) {
        server.registerStream(.syncWatch) { [self] request, _, writer in
            lock.withLock { watchFrom.append(request.fromSeq) }
            for seq in request.fromSeq.rawValue...max(request.fromSeq.rawValue, last) where seq <= last {
                try await writer.send(WatchItem(event: FakeNode.event(seq)))
            }
            try await Task.sleep(for: .seconds(3_600))
        }
    }

    func start() async throws {
        port = try await server.start()
    }

    func shutdown() async { await server.shutdown() }

    static func event(_ seq: UInt64, cart: CartID = "cart-1") -> CartEvent {
        CartEvent(cart: cart, seq: Seq(seq), version: Version(seq), timestamp: Timestamp(millisecondsSinceEpoch: 1),
                  change: .itemAdded(CartItemAdded(actor: "alice", line: CartLine(item: "sku-1", quantity: Int64(seq),
                                                                                  unitPrice: Money(minorUnits: 1)),
                                                   quantityAdded: 1)))
    }
}

extension CartClientConfiguration {
    /// A plaintext client of fake nodes: no status warm-up worth waiting for, short waits.
    static func test(_ endpoints: [Endpoint]) -> CartClientConfiguration {
        var configuration = CartClientConfiguration(endpoints: endpoints, tls: nil, identity: "client-test")
        configuration.operationTimeoutMs = 5_000
        return configuration
    }
}
