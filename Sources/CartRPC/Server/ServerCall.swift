import CartWire
import NIOCore

/// A call that did not finish inside the read that started it (future, async and stream
/// handlers), tracked by its connection until it ends. Confined to the connection's event loop.
final class ServerCall {
    typealias ItemContinuation = CheckedContinuation<Result<Void, RPCError>, Never>

    let streamID: StreamID
    let method: MethodDescriptor
    var task: Task<Void, Never>?
    var deadlineTimer: Scheduled<Void>?
    /// The caller asked for no answer (`FrameFlags.noReply`): the call runs, nothing is written.
    var noReply = false

    /// Stream items the caller still allows (server streams only).
    var credit: UInt32
    var itemsSent: UInt64 = 0
    /// The items of the producer's current send that wait for credit. A producer awaits each
    /// send, so these belong to one send: they are the whole server-side buffer of a stream,
    /// bounded by what the producer hands over at once.
    var pendingItems: (payloads: ArraySlice<ByteBuffer>, continuation: ItemContinuation)?

    init(streamID: StreamID, method: MethodDescriptor, credit: UInt32) {
        self.streamID = streamID
        self.method = method
        self.credit = credit
    }

    /// Stops the call's work: cancels its task and timer and fails a waiting send.
    func stop(_ error: RPCError) {
        task?.cancel()
        deadlineTimer?.cancel()
        deadlineTimer = nil
        if let pending = pendingItems {
            pendingItems = nil
            pending.continuation.resume(returning: .failure(error))
        }
    }
}
