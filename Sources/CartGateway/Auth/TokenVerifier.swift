import CartTLS

/// Checks tokens against every key in the keyring, so tokens signed before a rotation keep
/// working until their key is retired.
///
/// The checks run in an order that leaks nothing useful: shape first (free), then the key
/// id, then the MAC in constant time, and only for an authentic token the expiry — so an
/// attacker never learns whether a forged token "would have" expired.
public struct TokenVerifier: Sendable {
    private let keyring: SecretKeyring

    public init(keyring: SecretKeyring) {
        self.keyring = keyring
    }

    public func verify(_ token: String?, now: UnixMillis) throws(TokenError) -> TokenClaims {
        guard let token, !token.isEmpty else {
            throw TokenError(.missing, "no token: log in (or mint one) and send it in the hello")
        }
        let text = Substring(token).utf8
        guard text.count <= TokenFormat.tokenTextBytesMax else {
            throw TokenError(.malformed, "token is \(text.count) bytes, longer than the \(TokenFormat.tokenTextBytesMax) any valid token has")
        }
        guard let bytes = Base64URL.decode(text) else {
            throw TokenError(.malformed, "token is not base64url")
        }
        let (claims, body, mac) = try TokenFormat.parse(bytes)
        guard let secret = keyring.secret(for: claims.keyID) else {
            throw TokenError(.unknownKey, "token was signed with key \(claims.keyID), which this node does not hold (retired, or another cluster's)")
        }
        guard Crypto.verifyHMACSHA256(key: secret, message: body, mac: mac) else {
            throw TokenError(.forged, "token signature does not match: the token was altered or not issued by this cluster")
        }
        guard claims.issuedAt < claims.expiresAt else {
            throw TokenError(.malformed, "token expires (\(claims.expiresAt.rawValue)) before it was issued (\(claims.issuedAt.rawValue))")
        }
        try claims.checkNotExpired(now: now)
        return claims
    }
}
