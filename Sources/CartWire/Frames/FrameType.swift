/// What a frame carries. The number is the frame's second header byte.
public enum FrameType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Client → server, first frame on a connection: versions, role, identity, auth token.
    case hello = 1
    /// Server → client answer to hello: the chosen version and the server's limits.
    case helloAck = 2
    /// Starts a stream: calls `methodID` with the payload as argument.
    case request = 3
    /// The single reply to a unary request; ends the stream.
    case response = 4
    /// Ends a stream (or, on stream 0, the connection) with an error code and details.
    case error = 5
    /// One item of a server stream; costs the sender one credit.
    case streamItem = 6
    /// The server stream finished normally.
    case streamEnd = 7
    /// The caller no longer wants the stream's result.
    case cancel = 8
    /// Grants the sender of stream items more credit on a stream.
    case credit = 9
    /// Liveness probe; the peer answers with a pong carrying the same payload.
    case ping = 10
    /// Answer to ping.
    case pong = 11
    /// The sender is shutting down: it finishes streams up to a given id and accepts no new ones.
    case goAway = 12

    public var description: String {
        switch self {
        case .hello: "hello"
        case .helloAck: "helloAck"
        case .request: "request"
        case .response: "response"
        case .error: "error"
        case .streamItem: "streamItem"
        case .streamEnd: "streamEnd"
        case .cancel: "cancel"
        case .credit: "credit"
        case .ping: "ping"
        case .pong: "pong"
        case .goAway: "goAway"
        }
    }

    /// Frames about the whole connection travel on stream 0; frames about one call carry
    /// that call's stream id. An error frame may be either.
    public var streamScope: StreamScope {
        switch self {
        case .hello, .helloAck, .ping, .pong, .goAway: .connection
        case .request, .response, .streamItem, .streamEnd, .cancel, .credit: .stream
        case .error: .either
        }
    }

    public enum StreamScope: Sendable {
        case connection, stream, either
    }
}
