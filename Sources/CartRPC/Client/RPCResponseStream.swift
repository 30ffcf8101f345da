import CartWire
import NIOCore

/// The items of a server stream, in order. Reading grants the server more credit (in
/// batches of half the window), so a consumer that stops reading stops the server once the
/// window is used up. The stream ends normally on the server's stream end; it throws an
/// `RPCError` if the call fails. Cancelling the reading task, or dropping the stream before
/// its end, sends a cancel frame.
public struct RPCResponseStream<Item: RPCMessage>: AsyncSequence, Sendable {
    public typealias Element = Item

    let items: ClientStreamState.Items
    let control: StreamControl
    let creditBatch: UInt32

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: items.makeAsyncIterator(), control: control, creditBatch: creditBatch)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: ClientStreamState.Items.AsyncIterator
        let control: StreamControl
        let creditBatch: UInt32
        var consumedSinceGrant: UInt32 = 0

        /// The next item, nil after the stream end. Throws `RPCError`.
        public mutating func next() async throws -> Item? {
            guard let payload = try await base.next() else { return nil }
            consumedSinceGrant += 1
            if consumedSinceGrant >= creditBatch {
                control.grant(consumedSinceGrant)
                consumedSinceGrant = 0
            }
            do {
                return try Item.decodeRPC(from: payload)
            } catch {
                control.cancel()
                throw error
            }
        }
    }
}

/// Sends credit and cancel frames for one stream from the consumer's task, on the
/// connection's event loop.
final class StreamControl: Sendable {
    private let connection: NIOLoopBound<ClientConnectionHandler>
    private let state: ClientStreamState

    init(connection: NIOLoopBound<ClientConnectionHandler>, state: ClientStreamState) {
        self.connection = connection
        self.state = state
    }

    func grant(_ count: UInt32) {
        let connection = self.connection, state = self.state
        connection.eventLoop.execute {
            guard let stream = state.streamID else { return }
            connection.value.grantCredit(count, stream: stream)
        }
    }

    func cancel() {
        let connection = self.connection, state = self.state
        connection.eventLoop.execute {
            guard let stream = state.streamID else { return }
            connection.value.cancel(stream)
        }
    }
}
