import CartWire
import NIOCore

/// Sends the items of one server stream. `send` returns once the items are written to the
/// connection, and waits while the caller has no credit left, so a consumer that stops
/// reading suspends the producer instead of making the server buffer items.
public struct RPCStreamWriter<Item: RPCMessage>: Sendable {
    let sink: ServerStreamSink

    /// Sends one item. Throws `cancelled` once the call is over (cancelled, past its
    /// deadline, or its connection closed); the handler should then stop producing.
    public func send(_ item: Item) async throws(RPCError) {
        try await sink.send([item.encodedRPC(allocator: ByteBufferAllocator())])
    }

    /// Sends `items` in order, as `send` would one by one, but in one trip to the
    /// connection's event loop: a burst costs one hop and one flush, not one per item.
    public func send(contentsOf items: some Sequence<Item>) async throws(RPCError) {
        let allocator = ByteBufferAllocator()
        var payloads: [ByteBuffer] = []
        payloads.reserveCapacity(items.underestimatedCount)
        for item in items { payloads.append(try item.encodedRPC(allocator: allocator)) }
        guard !payloads.isEmpty else { return }
        try await sink.send(payloads)
    }

    /// An item encoded once, to be sent on several streams (`trySend`).
    public struct Encoded: Sendable {
        let payload: ByteBuffer
    }

    public static func encode(_ item: Item) throws(RPCError) -> Encoded {
        Encoded(payload: try item.encodedRPC(allocator: ByteBufferAllocator()))
    }

    /// Sends an item without a trip through the producer's task, if no `send` is waiting and
    /// the caller's credit and the connection can take it; `done` gets whether it was sent
    /// (if not, use `send`). Called on the connection's event loop, it sends at once and calls
    /// `done` before returning, and `item` is asked for only once the checks pass, so an item
    /// encoded lazily costs nothing when it cannot go. From another thread it takes one hop to
    /// that loop with the item encoded here, and `done` is called there. For a producer fed
    /// by an event loop (a replica publishing to watchers).
    public func trySend(_ item: () -> Encoded?, done: @escaping @Sendable (Bool) -> Void) {
        sink.trySend({ item()?.payload }, done: done)
    }
}

/// The byte-level side of `RPCStreamWriter`: hands each send's items to the connection
/// handler on its event loop and waits for credit there.
public final class ServerStreamSink: Sendable {
    private let connection: NIOLoopBound<ServerConnectionHandler>
    private let call: NIOLoopBound<ServerCall>

    init(connection: NIOLoopBound<ServerConnectionHandler>, call: NIOLoopBound<ServerCall>) {
        self.connection = connection
        self.call = call
    }

    func trySend(_ payload: () -> ByteBuffer?, done: @escaping @Sendable (Bool) -> Void) {
        if connection.eventLoop.inEventLoop {
            done(connection.value.writeStreamItemNow(payload, call: call.value))
            return
        }
        guard let bytes = payload() else { return done(false) }
        let connection = self.connection
        let call = self.call
        connection.eventLoop.execute {
            done(connection.value.writeStreamItemNow({ bytes }, call: call.value))
        }
    }

    func send(_ payloads: [ByteBuffer]) async throws(RPCError) {
        let eventLoop = connection.eventLoop
        let connection = self.connection
        let call = self.call
        let result: Result<Void, RPCError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                eventLoop.execute {
                    connection.value.offerStreamItems(payloads[...], call: call.value, continuation: continuation)
                }
            }
        } onCancel: {
            eventLoop.execute { connection.value.abandonPendingItems(call: call.value) }
        }
        try result.get()
    }
}
