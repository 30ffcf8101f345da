/// The payload of a go-away frame (stream 0): the sender is shutting down. It finishes every
/// stream up to and including `lastAcceptedStreamID` and rejects later ones; the receiver
/// opens no new streams on this connection and reconnects elsewhere for new calls.
public struct GoAway: Codable, Hashable, Sendable {
    public var lastAcceptedStreamID: StreamID
    public var code: ErrorCode
    public var reason: String

    public init(lastAcceptedStreamID: StreamID, code: ErrorCode = .goingAway, reason: String) {
        self.lastAcceptedStreamID = lastAcceptedStreamID
        self.code = code
        self.reason = reason
    }

    enum CodingKeys: Int, CodingKey {
        case lastAcceptedStreamID = 1, code = 2, reason = 3
    }
}
