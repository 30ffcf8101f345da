import CartDomain
import CartRPC
import CartTypes
import CartWire

extension DomainError {
    /// The wire error a refused command becomes. The domain's own stable code is kept in the
    /// message prefix (`[9] version conflict: …`) for logs and tools; `versionConflict`
    /// carries the current version as a structured detail.
    public var rpcError: RPCError {
        switch self {
        case .versionConflict(let current):
            return RPCError(.versionConflict, description, currentVersion: current)
        default:
            return RPCError(category.wireCode, description)
        }
    }
}

extension DomainError.Category {
    /// gRPC-style wire code of each class of refusal.
    public var wireCode: ErrorCode {
        switch self {
        case .invalidArgument: .invalidArgument
        case .notFound: .notFound
        case .alreadyExists: .alreadyExists
        case .permissionDenied: .permissionDenied
        case .failedPrecondition: .failedPrecondition
        case .aborted: .aborted
        case .resourceExhausted: .resourceExhausted
        case .outOfRange: .failedPrecondition
        }
    }
}
