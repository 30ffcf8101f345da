import CartRPC
import CartWire
import NIOCore

/// Every unary method this node serves, by id, with its types erased to bytes, so a
/// forwarded call (`Peer.forward`) reaches the same handler a direct call does. Built once
/// before the servers start; read-only afterwards.
final class MethodTable: @unchecked Sendable {
    typealias Handler<Request, Response> = @Sendable (Request, Caller, any EventLoop) -> EventLoopFuture<Response>
    typealias ErasedHandler = @Sendable (ByteBuffer, Caller, any EventLoop) -> EventLoopFuture<ByteBuffer>

    private(set) var handlers: [MethodID: ErasedHandler] = [:]
    /// Checked before every call on the client port (rate limits); nil admits.
    let admit: @Sendable (RPCPrincipal) -> RPCError?
    /// Counts and times the client port's calls by method.
    let calls: CallMetrics?

    init(admit: @escaping @Sendable (RPCPrincipal) -> RPCError? = { _ in nil }, calls: CallMetrics? = nil) {
        self.admit = admit
        self.calls = calls
    }
    private(set) var clientMethods: [(RPCServer) -> Void] = []

    /// Adds `method`; `clientPort` also serves it to clients (peer-internal methods are only
    /// reachable by forwarding).
    func add<Request, Response>(_ method: RPCMethod<Request, Response>, clientPort: Bool = true,
                                _ handler: @escaping Handler<Request, Response>) {
        precondition(handlers[method.id] == nil, "\(method) added twice")
        handlers[method.id] = { bytes, caller, loop in
            let request: Request
            do {
                request = try Request.decodeRPC(from: bytes)
            } catch {
                return loop.makeFailedFuture(error)
            }
            return handler(request, caller, loop).flatMapThrowing { response in
                var buffer = ByteBufferAllocator().buffer(capacity: 128)
                try response.encodeRPC(into: &buffer)
                return buffer
            }
        }
        if clientPort {
            let admit = self.admit
            let calls = self.calls?.track(method.name)
            clientMethods.append { server in
                server.register(method, onEventLoopFuture: { request, context in
                    let start = NIODeadline.now()
                    if let refusal = admit(context.principal) {
                        calls?.record(refusal, since: start)
                        return context.eventLoop.makeFailedFuture(refusal)
                    }
                    let answer = handler(request, Caller(context), context.eventLoop)
                    if let calls { answer.whenComplete { calls.record($0, since: start) } }
                    return answer
                })
            }
        }
    }

    func serve(_ method: MethodID, payload: ByteBuffer, caller: Caller, on loop: any EventLoop) -> EventLoopFuture<ByteBuffer> {
        guard let handler = handlers[method] else {
            return loop.makeFailedFuture(RPCError(.unknownMethod, "method \(method.rawValue) cannot be forwarded"))
        }
        return handler(payload, caller, loop)
    }
}
