import CartAPI
import CartDomain
import CartRPC
import CartTypes
import CartWire
import NIOConcurrencyHelpers

/// Counters a watcher can read while its watch runs (for tools and tests).
public final class WatchCounters: Sendable {
    private let state = NIOLockedValueBox((resumes: 0, delivered: 0, endpoint: Endpoint?.none))

    public init() {}

    /// The node the watch's current stream is open on.
    public var endpoint: Endpoint? { state.withLockedValue { $0.endpoint } }

    /// Times the watch reopened its stream after a drop, a node failure or a stream end.
    public var resumes: Int { state.withLockedValue { $0.resumes } }
    public var delivered: Int { state.withLockedValue { $0.delivered } }

    func resumed() { state.withLockedValue { $0.resumes += 1 } }
    func opened(on endpoint: Endpoint) { state.withLockedValue { $0.endpoint = endpoint } }
    func deliveredOne() { state.withLockedValue { $0.delivered += 1 } }
}

/// Every event of one cart from a seq on, live, as an `AsyncSequence`.
///
/// When the stream breaks (connection drop, node crash, a node that hangs and answers no
/// ping within `stallTimeoutMs`, leader change, server drain) the iterator opens a new one
/// on another node from the seq after the last event it returned, so the caller sees each
/// seq exactly once and in order (checked by `WatchOrder`). It gives up with an error after
/// `watchReconnectsWithoutProgressMax` reconnects in a row that delivered nothing, and at
/// once on answers that will not change: permission denied, cart not found,
/// unauthenticated, or history truncated (`isHistoryTruncated`: the events
/// between the resume point and the oldest retained one are gone; re-read the cart).
/// Reading slowly slows only this stream (credit flow), never the cart's writers.
/// `items` is the same watch yielding the whole `WatchItem`, with the event's commit time.
public struct CartWatch: AsyncSequence, Sendable {
    public typealias Element = CartEvent

    let client: CartClient
    let cart: CartID
    let fromSeq: Seq
    let counters: WatchCounters

    public func makeAsyncIterator() -> Iterator {
        Iterator(client: client, order: WatchOrder(cart: cart, fromSeq: fromSeq), counters: counters)
    }

    /// The same events, each as the node sent it: with `committedAtMicros` when the node
    /// applied it live, nil when it was re-read from the cart's history.
    public var items: Items { Items(watch: self) }

    public struct Items: AsyncSequence, Sendable {
        public typealias Element = WatchItem

        let watch: CartWatch

        public func makeAsyncIterator() -> ItemIterator { ItemIterator(base: watch.makeAsyncIterator()) }
    }

    public struct ItemIterator: AsyncIteratorProtocol {
        var base: Iterator

        /// The next item; nil only when the task is cancelled. Throws `CartClientError`.
        public mutating func next() async throws -> WatchItem? { try await base.nextItem() }
    }

    public struct Iterator: AsyncIteratorProtocol {
        let client: CartClient
        var order: WatchOrder
        let counters: WatchCounters
        var stream: RPCResponseStream<WatchItem>.AsyncIterator?
        var endpoint: Endpoint?
        var failuresInRow = 0
        var opened = false

        /// The next event; nil only when the task is cancelled. Throws `CartClientError`.
        public mutating func next() async throws -> CartEvent? { try await nextItem()?.event }

        mutating func nextItem() async throws -> WatchItem? {
            while !Task.isCancelled {
                do {
                    if stream == nil { try await open() }
                    var current = stream!
                    let item = try await current.next()
                    stream = current
                    guard let item else {
                        try await reopenAfter(RPCError(.unavailable, "the node ended the watch stream"))
                        continue
                    }
                    try order.accept(item.event)
                    failuresInRow = 0
                    counters.deliveredOne()
                    return item
                } catch let error as CartClientError {
                    stream = nil
                    throw error
                } catch {
                    try await reopenAfter(CartClient.rpcError(error))
                }
            }
            stream = nil
            return nil
        }

        private mutating func open() async throws {
            let partition = await client.partition(of: order.cart)
            let avoiding: Set<Endpoint> = failuresInRow > 0 ? Set(endpoint.map { [$0] } ?? []) : []
            let target = client.target(.partition(partition), avoiding: avoiding)
            endpoint = target
            counters.opened(on: target)
            if opened { counters.resumed() }
            opened = true
            let rpc = try client.pool.client(for: target)
            stream = try await rpc.stream(.syncWatch, WatchRequest(cart: order.cart, fromSeq: order.next)).makeAsyncIterator()
        }

        /// Decides whether a broken stream is worth reopening, waits a backoff, and forgets it.
        private mutating func reopenAfter(_ error: RPCError) async throws {
            stream = nil
            let clientError = CartClientError(error, attempts: failuresInRow + 1)
            guard error.code.isRetryable || error.code == .cancelled && !Task.isCancelled else { throw clientError }
            failuresInRow += 1
            guard failuresInRow <= client.configuration.watchReconnectsWithoutProgressMax else {
                throw CartClientError(error.code, "watch of cart \(order.cart) gave up: \(clientError.message)",
                                      attempts: failuresInRow)
            }
            if let partition = client.routing.partitionMap?.partition(of: order.cart), let endpoint {
                client.routing.forget(partition, at: endpoint)
            }
            let ceilingMs = Swift.min(UInt64(500), UInt64(10) << UInt64(Swift.min(failuresInRow, 6)))
            try? await Task.sleep(for: .milliseconds(UInt64.random(in: ceilingMs / 2...ceilingMs)))
        }
    }
}

extension CartClient {
    /// The cart's events with seq ≥ `fromSeq` (0 and 1: from the first), then live ones,
    /// resuming across failures without gap or repeat. See `CartWatch`.
    public func watch(_ cart: CartID, fromSeq: Seq = Seq(1), counters: WatchCounters = WatchCounters()) -> CartWatch {
        CartWatch(client: self, cart: cart, fromSeq: fromSeq, counters: counters)
    }
}
