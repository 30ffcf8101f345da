/// The stable numeric code of an error frame. Codes never change meaning once published;
/// a peer that receives a code it does not know treats it as `unknown` for decisions but
/// keeps the number for logs (hence a struct, not a closed enum).
///
/// 1–16 follow gRPC's status codes where the meaning is the same, so operators can read
/// them with existing intuition; 100 and up are SharedCart's own.
public struct ErrorCode: RawRepresentable, Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static func < (lhs: ErrorCode, rhs: ErrorCode) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The caller cancelled the request (a cancel frame reached the server).
    public static let cancelled = ErrorCode(1)
    /// An error with no better code; the message says what happened.
    public static let unknown = ErrorCode(2)
    /// The request is wrong in itself (bad payload, bad field value); retrying cannot help.
    public static let invalidArgument = ErrorCode(3)
    /// The request's deadline passed before it finished. It may or may not have taken effect.
    public static let deadlineExceeded = ErrorCode(4)
    /// A cart, item or user does not exist.
    public static let notFound = ErrorCode(5)
    /// Creating something that exists already.
    public static let alreadyExists = ErrorCode(6)
    /// The caller is known but may not do this (for example, a cart not shared with them).
    public static let permissionDenied = ErrorCode(7)
    /// A limit was hit: rate limit, too many streams, out of credit, a queue is full.
    public static let resourceExhausted = ErrorCode(8)
    /// The system is not in the state the request needs (for example, checkout of an empty cart).
    public static let failedPrecondition = ErrorCode(9)
    /// A concurrency conflict aborted the operation; retry the whole read-modify-write.
    public static let aborted = ErrorCode(10)
    /// The method exists in the catalogue but this peer does not implement it.
    public static let unimplemented = ErrorCode(12)
    /// A bug or broken invariant on the server.
    public static let `internal` = ErrorCode(13)
    /// The server cannot serve right now (starting, draining, no quorum); retry later.
    public static let unavailable = ErrorCode(14)
    /// No valid credentials (missing or bad auth token).
    public static let unauthenticated = ErrorCode(16)

    /// This node does not lead the partition; details carry the leader hint if known.
    public static let notLeader = ErrorCode(100)
    /// The write's expected version is stale; details carry the current version.
    public static let versionConflict = ErrorCode(101)
    /// No protocol version in common; sent on stream 0 before closing the connection.
    public static let unsupportedVersion = ErrorCode(102)
    /// The request names a method id this peer does not know.
    public static let unknownMethod = ErrorCode(103)
    /// A frame's length prefix exceeds the receiver's frame size limit; the connection closes.
    public static let frameTooLarge = ErrorCode(104)
    /// A frame or payload could not be decoded; the connection (or stream) is unusable.
    public static let malformedFrame = ErrorCode(105)
    /// A stream item was sent without credit, or a stream id was reused.
    public static let protocolViolation = ErrorCode(106)
    /// The server is shutting down; a go-away frame says which streams it will still finish.
    public static let goingAway = ErrorCode(107)

    /// Every code this version of the protocol defines, in numeric order.
    public static let known: [ErrorCode] = [
        .cancelled, .unknown, .invalidArgument, .deadlineExceeded, .notFound, .alreadyExists,
        .permissionDenied, .resourceExhausted, .failedPrecondition, .aborted, .unimplemented,
        .internal, .unavailable, .unauthenticated, .notLeader, .versionConflict,
        .unsupportedVersion, .unknownMethod, .frameTooLarge, .malformedFrame,
        .protocolViolation, .goingAway,
    ]

    /// Whether sending the same request again (with the same request id, after any
    /// `retryAfterMs`, to the hinted leader) can succeed. Writes are idempotent by request id,
    /// so retrying after an ambiguous outcome such as `deadlineExceeded` is safe.
    public var isRetryable: Bool {
        switch self {
        case .deadlineExceeded, .resourceExhausted, .aborted, .unavailable, .notLeader, .goingAway:
            true
        default:
            false
        }
    }

    /// The code's name as written in the protocol spec, or `code<N>` for a code this
    /// version does not know.
    public var name: String {
        switch self {
        case .cancelled: "cancelled"
        case .unknown: "unknown"
        case .invalidArgument: "invalidArgument"
        case .deadlineExceeded: "deadlineExceeded"
        case .notFound: "notFound"
        case .alreadyExists: "alreadyExists"
        case .permissionDenied: "permissionDenied"
        case .resourceExhausted: "resourceExhausted"
        case .failedPrecondition: "failedPrecondition"
        case .aborted: "aborted"
        case .unimplemented: "unimplemented"
        case .internal: "internal"
        case .unavailable: "unavailable"
        case .unauthenticated: "unauthenticated"
        case .notLeader: "notLeader"
        case .versionConflict: "versionConflict"
        case .unsupportedVersion: "unsupportedVersion"
        case .unknownMethod: "unknownMethod"
        case .frameTooLarge: "frameTooLarge"
        case .malformedFrame: "malformedFrame"
        case .protocolViolation: "protocolViolation"
        case .goingAway: "goingAway"
        default: "code\(rawValue)"
        }
    }

    public var description: String { "\(name)(\(rawValue))" }

    // Encodes as the bare number, like the identifiers in CartTypes.
    public init(from decoder: any Decoder) throws {
        self.rawValue = try decoder.singleValueContainer().decode(UInt16.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
