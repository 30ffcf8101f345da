import CartTLS
import CartWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Whether a connection may take new calls; read from any thread, cleared on go-away or close.
final class ConnectionUsability: Sendable {
    private let usable = NIOLockedValueBox(true)
    var isUsable: Bool { usable.withLockedValue { $0 } }
    func markUnusable() { usable.withLockedValue { $0 = false } }
}

/// One established connection (TLS done, hello acknowledged).
///
/// Two APIs: `startCall` is the low-level one, called on `eventLoop` with the answer delivered
/// to a callback on the same loop (no task, no continuation per call: what a load generator
/// uses); `call` and `stream` are the `async` ones `RPCClient` builds on.
public final class RPCConnection: Sendable {
    public let channel: any Channel
    /// The server's limits and identity, from its hello-ack.
    public let helloAck: HelloAck
    let handler: NIOLoopBound<ClientConnectionHandler>
    let usability: ConnectionUsability

    init(channel: any Channel, helloAck: HelloAck, handler: NIOLoopBound<ClientConnectionHandler>,
         usability: ConnectionUsability) {
        self.channel = channel
        self.helloAck = helloAck
        self.handler = handler
        self.usability = usability
    }

    public var eventLoop: any EventLoop { channel.eventLoop }

    /// False once the server sent go-away or the connection closed.
    public var isUsable: Bool { usability.isUsable && channel.isActive }

    /// Starts a unary call. Must be called on `eventLoop`; `onResponse` runs there with `tag`.
    /// Calls started while the loop is handling a read are flushed together when the read
    /// batch ends; others are flushed at once.
    public func startCall(_ method: MethodID, payload: ByteBuffer, timeoutMs: Int64? = nil, tag: UInt64 = 0,
                          onResponse: @escaping RPCResponseCallback) {
        handler.value.startUnary(method, payload: payload, timeoutMs: timeoutMs, tag: tag, onResponse: onResponse)
    }

    /// Sends a request the server runs without answering, not even with an error (on
    /// `eventLoop`). For messages whose loss the caller tolerates, such as Raft's: they save
    /// the answer's frame both ways. Throws if the connection is not open or the request is
    /// larger than the server accepts.
    public func send(_ method: MethodID, payload: ByteBuffer) throws(RPCError) {
        try handler.value.sendOneWay(method, payload: payload)
    }

    /// Calls in progress (on `eventLoop`).
    public var inflightCount: Int { handler.value.inflightCount }

    /// A unary call. Cancelling the task cancels the call on the wire.
    public func call(_ method: MethodID, payload: ByteBuffer, timeoutMs: Int64?) async -> Result<ByteBuffer, RPCError> {
        let handler = self.handler
        let start = CallStart()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<ByteBuffer, RPCError>, Never>) in
                handler.eventLoop.execute {
                    guard !start.cancelledEarly else {
                        continuation.resume(returning: .failure(RPCError(.cancelled, "the call was cancelled")))
                        return
                    }
                    start.streamID = handler.value.startUnary(method, payload: payload, timeoutMs: timeoutMs, tag: 0) { _, result in
                        continuation.resume(returning: result)
                    }
                }
            }
        } onCancel: {
            handler.eventLoop.execute {
                if let stream = start.streamID {
                    handler.value.cancel(stream)
                } else {
                    start.cancelledEarly = true
                }
            }
        }
    }

    /// Opens a server stream; items arrive through the returned sequence.
    public func stream<Item: RPCMessage>(_ method: MethodID, payload: ByteBuffer, timeoutMs: Int64?,
                                         of: Item.Type = Item.self) -> RPCResponseStream<Item> {
        let (items, continuation) = ClientStreamState.Items.makeStream()
        let handler = self.handler
        let state = ClientStreamState(continuation: continuation)
        let control = StreamControl(connection: handler, state: state)
        continuation.onTermination = { termination in
            if case .cancelled = termination { control.cancel() }
        }
        handler.eventLoop.execute {
            handler.value.startStream(method, payload: payload, timeoutMs: timeoutMs, state: state)
        }
        return RPCResponseStream(items: items, control: control, creditBatch: max(1, helloAck.streamCreditInitial / 2))
    }

    public func close() async {
        try? await channel.close()
    }
}

/// Where a call started from a task stands, touched only on the event loop.
private final class CallStart: @unchecked Sendable {
    var streamID: StreamID?
    var cancelledEarly = false
}
