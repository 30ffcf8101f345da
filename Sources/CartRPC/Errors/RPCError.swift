import CartTypes
import CartWire

/// What a call ended with when it did not succeed: the wire `ErrorCode`, a message for people
/// and the structured details a caller acts on (leader hint, retry delay, current version).
///
/// The server turns a thrown `RPCError` into an error frame and the client turns an error
/// frame back into the same `RPCError`, so both sides see one type. Local failures (connect
/// refused, timeout before an answer, a peer that broke the protocol) use the same codes.
public struct RPCError: Error, Hashable, Sendable, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String
    public var leaderHint: LeaderHint?
    public var retryAfterMs: UInt64?
    public var currentVersion: Version?

    public init(_ code: ErrorCode, _ message: String, leaderHint: LeaderHint? = nil,
                retryAfterMs: UInt64? = nil, currentVersion: Version? = nil) {
        self.code = code
        self.message = message
        self.leaderHint = leaderHint
        self.retryAfterMs = retryAfterMs
        self.currentVersion = currentVersion
    }

    public init(_ payload: ErrorPayload) {
        self.init(payload.code, payload.message, leaderHint: payload.leaderHint,
                  retryAfterMs: payload.retryAfterMs, currentVersion: payload.currentVersion)
    }

    /// The payload of the error frame that carries this error.
    public var payload: ErrorPayload {
        ErrorPayload(code: code, message: message, leaderHint: leaderHint,
                     retryAfterMs: retryAfterMs, currentVersion: currentVersion)
    }

    /// Whether the same call may succeed if sent again (see `ErrorCode.isRetryable`).
    public var isRetryable: Bool { code.isRetryable }

    public var description: String { "\(code): \(message)" }

    /// Any error thrown by a handler, as the error the caller will see. `CancellationError`
    /// becomes `cancelled`; anything that is not an `RPCError` is reported as `internal`
    /// without its text, which may hold server details the caller should not see.
    static func from(handlerError error: any Error) -> RPCError {
        if let rpc = error as? RPCError { return rpc }
        if error is CancellationError { return RPCError(.cancelled, "the call was cancelled") }
        return RPCError(.internal, "the handler failed with \(type(of: error))")
    }
}
