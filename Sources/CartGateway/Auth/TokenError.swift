/// Why a token was refused. Every code maps to the wire code `unauthenticated`; the code and
/// message tell the caller (and the log) which of the cases it was.
public struct TokenError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// No token at all (a hello without one, or an empty string).
        case missing = "token.missing"
        /// Not a token: bad base64url, wrong length or version, a user id that is not UTF-8.
        case malformed = "token.malformed"
        /// Well formed, signed by a key we know, but the MAC does not match: altered or forged.
        case forged = "token.forged"
        /// Genuine, but its expiry time has passed.
        case expired = "token.expired"
        /// Signed with a key id this node does not hold (retired, or from another cluster).
        case unknownKey = "token.unknown_key"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
