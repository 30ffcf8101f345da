import CartTypes

/// Who is on the other end of a connection.
public enum PeerRole: UInt8, Codable, Sendable, CaseIterable {
    /// A user-facing client (`cartctl`, `cartload`, an app): authenticates with a token.
    case client = 1
    /// Another cluster node: authenticated by its mutual-TLS certificate.
    case node = 2
}

/// The first frame on every connection, sent by the side that opened it (stream 0).
/// The header of a hello frame is always laid out as in protocol version 1, whatever
/// versions the sender supports, so that any two peers can at least negotiate.
public struct Hello: Codable, Hashable, Sendable {
    /// Every protocol version the sender speaks. The receiver picks the highest one it
    /// also speaks, or answers with an `unsupportedVersion` error and closes.
    public var versions: [UInt8]
    public var role: PeerRole
    /// A free-form name for logs: a client's program name and version, or a node's name.
    public var identity: String
    /// The sender's node id, when `role` is `.node`.
    public var nodeID: NodeID?
    /// A bearer token from login, when `role` is `.client` and the user is logged in.
    public var authToken: String?

    public init(versions: [UInt8] = WireProtocol.versionsSupported, role: PeerRole, identity: String,
                nodeID: NodeID? = nil, authToken: String? = nil) {
        self.versions = versions
        self.role = role
        self.identity = identity
        self.nodeID = nodeID
        self.authToken = authToken
    }

    enum CodingKeys: Int, CodingKey {
        case versions = 1, role = 2, identity = 3, nodeID = 4, authToken = 5
    }
}

/// The server's answer to `Hello`: the version both sides now speak and the server's limits.
public struct HelloAck: Codable, Hashable, Sendable {
    /// The chosen protocol version; every later frame header carries it.
    public var version: UInt8
    /// The server's name for logs.
    public var identity: String
    /// The server's node id (a client may use it to understand leader hints).
    public var nodeID: NodeID?
    /// The largest frame (length prefix value) the server accepts.
    public var frameBytesMax: UInt32
    /// How many streams the client may have open at once.
    public var streamsConcurrentMax: UInt32
    /// Credit each new server stream starts with: the number of stream items the server may
    /// send before the client grants more.
    public var streamCreditInitial: UInt32
    /// How often the server expects traffic or a ping; silence for three intervals closes.
    public var keepaliveIntervalMs: UInt64

    public init(version: UInt8, identity: String, nodeID: NodeID? = nil,
                frameBytesMax: UInt32 = UInt32(FrameLimits.frameBytesDefault),
                streamsConcurrentMax: UInt32 = 100, streamCreditInitial: UInt32 = 64,
                keepaliveIntervalMs: UInt64 = 10_000) {
        self.version = version
        self.identity = identity
        self.nodeID = nodeID
        self.frameBytesMax = frameBytesMax
        self.streamsConcurrentMax = streamsConcurrentMax
        self.streamCreditInitial = streamCreditInitial
        self.keepaliveIntervalMs = keepaliveIntervalMs
    }

    enum CodingKeys: Int, CodingKey {
        case version = 1, identity = 2, nodeID = 3, frameBytesMax = 4, streamsConcurrentMax = 5
        case streamCreditInitial = 6, keepaliveIntervalMs = 7
    }
}

extension Hello {
    /// The version both sides speak: the highest in both lists, or nil when they share none.
    public static func negotiate(offered: [UInt8], supported: [UInt8] = WireProtocol.versionsSupported) -> UInt8? {
        offered.filter(supported.contains).max()
    }
}
