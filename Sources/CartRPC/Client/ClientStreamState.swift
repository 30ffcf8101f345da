import CartWire
import NIOCore

/// One server stream on the client: the items delivered to the consumer and the credit the
/// server may still use.
///
/// `@unchecked Sendable`: created by the consumer's task, then touched only on the
/// connection's event loop (every access after creation is inside `eventLoop.execute` or a
/// handler callback); the consumer reads items through the `AsyncThrowingStream`, which is
/// thread-safe.
final class ClientStreamState: @unchecked Sendable {
    typealias Items = AsyncThrowingStream<ByteBuffer, any Error>

    var streamID: StreamID?
    /// Items the server may still send: the initial credit plus grants, minus items received.
    /// Every item the consumer has not yet read was paid for by credit, so the consumer's
    /// buffer never holds more than the credit window.
    var creditOutstanding: UInt32 = 0
    var timer: Scheduled<Void>?
    private let continuation: Items.Continuation

    init(continuation: Items.Continuation) {
        self.continuation = continuation
    }

    func deliver(_ payload: ByteBuffer) {
        continuation.yield(payload)
    }

    func finish(_ result: Result<Void, RPCError>) {
        timer?.cancel()
        timer = nil
        switch result {
        case .success: continuation.finish()
        case .failure(let error): continuation.finish(throwing: error)
        }
    }
}
