/// How a call to a peer failed, in the product's error vocabulary (the wire's error codes,
/// plus the transport's own failures). The node maps what it received onto these.
public enum FailureCode: String, Hashable, Sendable, CaseIterable {
    // Retryable: the same request can succeed later or elsewhere (writes are idempotent by
    // request id, so an ambiguous outcome is safe to repeat).
    case unavailable
    case notLeader
    case resourceExhausted
    case aborted
    case deadlineExceeded
    case goingAway
    /// The connection could not be made or broke before a reply (transport level).
    case connectionFailed

    // Not retryable: the answer will be the same every time.
    case invalidArgument
    case notFound
    case alreadyExists
    case permissionDenied
    case unauthenticated
    case failedPrecondition
    case versionConflict
    case unimplemented
    case `internal`
    case cancelled
    case unknown

    /// Whether sending the same request again can succeed.
    public var isRetryable: Bool {
        switch self {
        case .unavailable, .notLeader, .resourceExhausted, .aborted, .deadlineExceeded, .goingAway, .connectionFailed:
            true
        case .invalidArgument, .notFound, .alreadyExists, .permissionDenied, .unauthenticated,
             .failedPrecondition, .versionConflict, .unimplemented, .internal, .cancelled, .unknown:
            false
        }
    }

    /// Whether this outcome says something about the peer's health (counts as a breaker
    /// failure). A peer that answers "not found" or "not leader" is healthy.
    public var indicatesSickPeer: Bool {
        switch self {
        case .unavailable, .deadlineExceeded, .connectionFailed, .internal: true
        default: false
        }
    }
}
