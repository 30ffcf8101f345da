import CartWire
import NIOCore

/// A registered handler with its types erased to payload bytes, in one of the four flavours
/// a method can be served in.
enum ServerHandler: Sendable {
    /// Runs synchronously on the connection's event loop: no task, no thread hop.
    case eventLoop(@Sendable (ByteBuffer, RPCCallContext) throws(RPCError) -> ByteBuffer)
    /// Starts on the connection's event loop and answers through a future.
    case eventLoopFuture(@Sendable (ByteBuffer, RPCCallContext) -> EventLoopFuture<ByteBuffer>)
    /// Runs in a task of its own; cancelled by a cancel frame, the deadline or a lost connection.
    case async(@Sendable (ByteBuffer, RPCCallContext) async throws -> ByteBuffer)
    /// A server stream, in a task of its own, sending items through a credit-limited sink.
    case stream(@Sendable (ByteBuffer, RPCCallContext, ServerStreamSink) async throws -> Void)
}

/// The methods a server serves, by id. Copied into each connection when it is accepted.
struct HandlerRegistry: Sendable {
    private(set) var entries: [MethodID: Entry] = [:]

    struct Entry: Sendable {
        let method: MethodDescriptor
        let handler: ServerHandler
    }

    subscript(id: MethodID) -> Entry? { entries[id] }

    /// Registering an id twice is a programming error: two handlers would answer one method.
    mutating func insert(_ method: MethodDescriptor, _ handler: ServerHandler) {
        precondition(method.id != .none, "method \(method) has no id")
        precondition(entries[method.id] == nil, "method id \(method.id.rawValue) registered twice")
        entries[method.id] = Entry(method: method, handler: handler)
    }
}
