import CartRPC
import CartTypes
import CartWire

/// Why a client operation failed, after whatever retries were allowed: the wire code, the
/// message for people (without the domain's `[n]` prefix), and the details callers act on.
///
/// The domain keeps its own stable code in the message prefix (`[9] version conflict: …`);
/// it is parsed into `domainCode` so callers can tell, say, a truncated history (27) from
/// another failed precondition without matching text.
public struct CartClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The domain code of "history truncated" (CartDomain `DomainError.historyTruncated`).
    public static let historyTruncatedDomainCode = 27

    public let code: ErrorCode
    public let message: String
    public let domainCode: Int?
    public let currentVersion: Version?
    public let retryAfterMs: UInt64?
    /// Attempts made before giving up (1: no retry).
    public let attempts: Int

    public init(_ code: ErrorCode, _ message: String, domainCode: Int? = nil, currentVersion: Version? = nil,
                retryAfterMs: UInt64? = nil, attempts: Int = 1) {
        self.code = code
        self.message = message
        self.domainCode = domainCode
        self.currentVersion = currentVersion
        self.retryAfterMs = retryAfterMs
        self.attempts = attempts
    }

    /// The client's view of an error answer or a local transport failure.
    public init(_ error: RPCError, attempts: Int = 1) {
        let (domainCode, text) = Self.splitDomainPrefix(error.message)
        self.init(error.code, text, domainCode: domainCode, currentVersion: error.currentVersion,
                  retryAfterMs: error.retryAfterMs, attempts: attempts)
    }

    public var isRetryable: Bool { code.isRetryable }
    public var isHistoryTruncated: Bool { domainCode == Self.historyTruncatedDomainCode }

    /// For a truncated history, the oldest event the cart still keeps: the `#N` that ends the
    /// message (`history truncated: oldest retained event is #N`, proto-spec/SERVICES.md).
    public var oldestRetainedSeq: Seq? {
        guard isHistoryTruncated, let hash = message.lastIndex(of: "#"),
              let seq = UInt64(message[message.index(after: hash)...]) else { return nil }
        return Seq(seq)
    }

    /// What a person should read: the server's sentence, and how often it was tried when
    /// retries did not help.
    public var description: String {
        attempts > 1 && isRetryable ? "\(message) (gave up after \(attempts) attempts)" : message
    }

    /// `"[27] history truncated: …"` → `(27, "history truncated: …")`.
    static func splitDomainPrefix(_ message: String) -> (Int?, String) {
        guard message.hasPrefix("["), let close = message.firstIndex(of: "]"),
              let code = Int(message[message.index(after: message.startIndex)..<close]) else {
            return (nil, message)
        }
        let rest = message[message.index(after: close)...].drop { $0 == " " }
        return (code, String(rest))
    }
}
