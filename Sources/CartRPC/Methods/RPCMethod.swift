import CartWire
import NIOCore

/// One remote method with its argument and result types, defined once and used by both
/// sides: the server registers a handler for it and the client calls it.
///
/// ```swift
/// extension RPCMethod where Request == AddItem, Response == CartVersion {
///     static let addItem = RPCMethod(id: 120, name: "Cart.addItem", kind: .unary)
/// }
/// server.register(.addItem) { request, context in … }
/// let version = try await client.call(.addItem, request, timeout: .seconds(1))
/// ```
///
/// For a server stream `Response` is the type of one stream item.
public struct RPCMethod<Request: RPCMessage, Response: RPCMessage>: Sendable, CustomStringConvertible {
    public let descriptor: MethodDescriptor

    public init(id: MethodID, name: String, kind: MethodDescriptor.Kind) {
        self.descriptor = MethodDescriptor(id: id, name: name, kind: kind)
    }

    public var id: MethodID { descriptor.id }
    public var name: String { descriptor.name }
    public var kind: MethodDescriptor.Kind { descriptor.kind }
    public var description: String { descriptor.description }
}

extension MethodID {
    /// Built-in: answers a `Ping` with the same nonce (a typed round trip for health checks).
    public static let ping = MethodID(3)
}

extension RPCMethod where Request == ByteBuffer, Response == ByteBuffer {
    /// Built-in: returns its payload unchanged. Served on the event loop with no copy.
    public static var echo: Self { RPCMethod(id: .echo, name: "Builtin.echo", kind: .unary) }
}

extension RPCMethod where Request == ByteBuffer, Response == ByteBuffer {
    /// Built-in: a server stream whose items each equal the request's payload, sent for as
    /// long as the caller grants credit, until it cancels or its deadline passes.
    public static var echoStream: Self { RPCMethod(id: .echoStream, name: "Builtin.echoStream", kind: .serverStream) }
}

extension RPCMethod where Request == Ping, Response == Ping {
    /// Built-in: returns the request's nonce.
    public static var ping: Self { RPCMethod(id: .ping, name: "Builtin.ping", kind: .unary) }
}
