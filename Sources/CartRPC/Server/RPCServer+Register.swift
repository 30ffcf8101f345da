import CartWire
import NIOCore

extension RPCServer {
    /// Serves `method` with an `async` handler in a task of its own: the flavour for services.
    /// The task is cancelled when the caller cancels, the deadline passes or the connection drops.
    public func register<Request, Response>(
        _ method: RPCMethod<Request, Response>,
        _ handler: @escaping @Sendable (Request, RPCCallContext) async throws -> Response
    ) {
        precondition(method.kind == .unary, "\(method) is a server stream: use registerStream")
        insert(method.descriptor, .async { bytes, context in
            let request = try Request.decodeRPC(from: bytes)
            let response = try await handler(request, context)
            return context.noReply ? ByteBuffer() : try response.encodedRPC(allocator: ByteBufferAllocator())
        })
    }

    /// Serves `method` synchronously on the connection's event loop: the hot path, with no
    /// task and no thread hop. The handler must not block.
    public func register<Request, Response>(
        _ method: RPCMethod<Request, Response>,
        onEventLoop handler: @escaping @Sendable (Request, RPCCallContext) throws(RPCError) -> Response
    ) {
        precondition(method.kind == .unary, "\(method) is a server stream: use registerStream")
        insert(method.descriptor, .eventLoop { (bytes, context) throws(RPCError) -> ByteBuffer in
            let request = try Request.decodeRPC(from: bytes)
            let response = try handler(request, context)
            return context.noReply ? ByteBuffer() : try response.encodedRPC(allocator: ByteBufferAllocator())
        })
    }

    /// Serves `method` on the connection's event loop with an answer that arrives later.
    public func register<Request, Response>(
        _ method: RPCMethod<Request, Response>,
        onEventLoopFuture handler: @escaping @Sendable (Request, RPCCallContext) -> EventLoopFuture<Response>
    ) {
        precondition(method.kind == .unary, "\(method) is a server stream: use registerStream")
        insert(method.descriptor, .eventLoopFuture { bytes, context in
            let request: Request
            do {
                request = try Request.decodeRPC(from: bytes)
            } catch {
                return context.eventLoop.makeFailedFuture(error)
            }
            return handler(request, context).flatMapThrowing { response in
                context.noReply ? ByteBuffer() : try response.encodedRPC(allocator: ByteBufferAllocator())
            }
        })
    }

    /// Serves the server stream `method`: the handler sends items with `writer.send`, which
    /// waits while the caller has granted no credit, and returns to end the stream.
    public func registerStream<Request, Item>(
        _ method: RPCMethod<Request, Item>,
        _ handler: @escaping @Sendable (Request, RPCCallContext, RPCStreamWriter<Item>) async throws -> Void
    ) {
        precondition(method.kind == .serverStream, "\(method) is unary: use register")
        insert(method.descriptor, .stream { bytes, context, sink in
            let request = try Request.decodeRPC(from: bytes)
            try await handler(request, context, RPCStreamWriter(sink: sink))
        })
    }

    /// The built-in methods every server answers.
    func registerBuiltins() {
        register(.echo, onEventLoop: { request, _ in request })
        register(.ping, onEventLoop: { request, _ in request })
        registerStream(.echoStream) { request, _, writer in
            while true {
                try await writer.send(request)
            }
        }
    }
}
