import CartTypes

/// The payload of an error frame: a stable code, a message for people, and the structured
/// details a client needs to act without parsing the message.
public struct ErrorPayload: Codable, Hashable, Sendable, Error, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String
    /// With `notLeader`: where the partition's leader is believed to be.
    public var leaderHint: LeaderHint?
    /// With `resourceExhausted`, `unavailable`, `goingAway`: wait at least this long before
    /// retrying.
    public var retryAfterMs: UInt64?
    /// With `versionConflict`: the cart's current version.
    public var currentVersion: Version?

    public init(code: ErrorCode, message: String, leaderHint: LeaderHint? = nil,
                retryAfterMs: UInt64? = nil, currentVersion: Version? = nil) {
        self.code = code
        self.message = message
        self.leaderHint = leaderHint
        self.retryAfterMs = retryAfterMs
        self.currentVersion = currentVersion
    }

    public var isRetryable: Bool { code.isRetryable }
    public var description: String { "\(code): \(message)" }

    enum CodingKeys: Int, CodingKey {
        case code = 1, message = 2, leaderHint = 3, retryAfterMs = 4, currentVersion = 5
    }
}

/// A node believed to lead a partition, and the client address to reach it at.
public struct LeaderHint: Codable, Hashable, Sendable {
    public var nodeID: NodeID
    /// `host:port` of the node's client listener.
    public var address: String

    public init(nodeID: NodeID, address: String) {
        self.nodeID = nodeID
        self.address = address
    }

    enum CodingKeys: Int, CodingKey {
        case nodeID = 1, address = 2
    }
}
