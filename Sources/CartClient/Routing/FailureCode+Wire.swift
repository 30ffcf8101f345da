import CartGateway
import CartWire

extension FailureCode {
    /// The retry policy's vocabulary for a wire error code. Transport-level codes (a frame
    /// the client could not read, a broken protocol) are not retried: the next answer from
    /// the same build would be no better.
    init(_ code: ErrorCode) {
        switch code {
        case .unavailable: self = .unavailable
        case .notLeader: self = .notLeader
        case .resourceExhausted: self = .resourceExhausted
        case .aborted: self = .aborted
        case .deadlineExceeded: self = .deadlineExceeded
        case .goingAway: self = .goingAway
        case .invalidArgument: self = .invalidArgument
        case .notFound: self = .notFound
        case .alreadyExists: self = .alreadyExists
        case .permissionDenied: self = .permissionDenied
        case .unauthenticated: self = .unauthenticated
        case .failedPrecondition: self = .failedPrecondition
        case .versionConflict: self = .versionConflict
        case .unimplemented, .unknownMethod, .unsupportedVersion: self = .unimplemented
        case .cancelled: self = .cancelled
        case .internal: self = .internal
        default: self = .unknown
        }
    }
}
