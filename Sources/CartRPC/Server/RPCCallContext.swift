import CartWire
import Logging
import NIOCore

/// What a handler knows about the call it serves.
public struct RPCCallContext: Sendable {
    public let method: MethodDescriptor
    public let streamID: StreamID
    public let principal: RPCPrincipal
    /// When the caller stops waiting, if it said (the frame's relative deadline, on arrival).
    /// The server ends the call with `deadlineExceeded` then and cancels the handler's work.
    public let deadline: NIODeadline?
    /// The connection's event loop: event-loop handlers run on it.
    public let eventLoop: any EventLoop
    public let logger: Logger
}
