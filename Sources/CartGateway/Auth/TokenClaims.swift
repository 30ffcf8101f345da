import CartTypes

/// What a verified token says: who the caller is, until when, and which key vouched for it.
public struct TokenClaims: Hashable, Sendable {
    public let keyID: KeyID
    public let user: UserID
    public let issuedAt: UnixMillis
    public let expiresAt: UnixMillis

    public init(keyID: KeyID, user: UserID, issuedAt: UnixMillis, expiresAt: UnixMillis) {
        self.keyID = keyID
        self.user = user
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }

    /// The per-call check for a token verified once when the connection said hello: the MAC
    /// does not change, but time passes, so a long-lived connection's token still expires.
    public func checkNotExpired(now: UnixMillis) throws(TokenError) {
        guard now < expiresAt else {
            throw TokenError(.expired, "token for \(user) expired at \(expiresAt.rawValue) (now \(now.rawValue), Unix ms)")
        }
    }
}
