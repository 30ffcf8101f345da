import CartTLS
import CartTypes

/// Issues tokens with the keyring's current key. Login uses it after checking a password;
/// admin tooling uses it directly (`AdminTokenMinter`).
public struct TokenSigner: Sendable {
    /// Longest lifetime a token may be given; a leaked token must not stay valid for long.
    public static let tokenLifetimeMsMax: UInt64 = 30 * 24 * 3600 * 1000
    /// Lifetime of a login token unless configured otherwise.
    public static let tokenLifetimeMsDefault: UInt64 = 12 * 3600 * 1000

    private let keyID: KeyID
    private let secret: [UInt8]

    public init(keyring: SecretKeyring) {
        keyID = keyring.currentKeyID
        secret = keyring.currentSecret
    }

    /// A base64url token for `user`, valid from `issuedAt` for `lifetimeMs`.
    public func sign(user: UserID, issuedAt: UnixMillis, lifetimeMs: UInt64 = tokenLifetimeMsDefault) throws(TokenSigningError) -> String {
        let userBytes = user.rawValue.utf8.count
        guard (1...UserID.bytesMax).contains(userBytes) else {
            throw TokenSigningError(.invalidUser, "user id must be 1...\(UserID.bytesMax) bytes of UTF-8, got \(userBytes)")
        }
        guard (1...Self.tokenLifetimeMsMax).contains(lifetimeMs) else {
            throw TokenSigningError(.invalidLifetime, "token lifetime \(lifetimeMs) ms outside 1...\(Self.tokenLifetimeMsMax)")
        }
        let claims = TokenClaims(keyID: keyID, user: user, issuedAt: issuedAt, expiresAt: issuedAt.adding(milliseconds: lifetimeMs))
        var bytes = TokenFormat.body(claims)
        bytes.append(contentsOf: Crypto.hmacSHA256(key: secret, message: bytes))
        return Base64URL.encode(bytes)
    }
}

/// A token that could not be issued because the request for it was invalid.
public struct TokenSigningError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case invalidUser = "token.invalid_user"
        case invalidLifetime = "token.invalid_lifetime"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
