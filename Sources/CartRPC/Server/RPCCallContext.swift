import CartWire
import Logging
import NIOCore

/// What a handler knows about the call it serves.
public struct RPCCallContext: Sendable {
    public let method: MethodDescriptor
    public let streamID: StreamID
    /// When the caller stops waiting, if it said (the frame's relative deadline, on arrival).
    /// The server ends the call with `deadlineExceeded` then and cancels the handler's work.
    public let deadline: NIODeadline?
    /// The caller asked for no answer (`FrameFlags.noReply`): whatever the handler returns
    /// is dropped, and the server does not even encode it.
    public let noReply: Bool
    let connection: ConnectionInfo

    /// Who is calling, as the authenticator decided for this connection.
    public var principal: RPCPrincipal { connection.principal }
    /// The connection's event loop: event-loop handlers run on it.
    public var eventLoop: any EventLoop { connection.eventLoop }
    public var logger: Logger { connection.logger }
}

/// What every call on one connection shares, held once so that building a call's context
/// costs one reference count rather than one per field.
final class ConnectionInfo: Sendable {
    let principal: RPCPrincipal
    let eventLoop: any EventLoop
    let logger: Logger

    init(principal: RPCPrincipal, eventLoop: any EventLoop, logger: Logger) {
        self.principal = principal
        self.eventLoop = eventLoop
        self.logger = logger
    }
}
