import CartGateway
import CartRPC
import CartTypes
import Foundation

/// Signs login tokens and turns a hello's token into a user: a signed token from
/// `User.login`, or (only with `devIdentities`) the literal `user:<id>`.
struct TokenService: Sendable {
    static let devPrefix = "user:"

    let signer: TokenSigner
    let verifier: TokenVerifier
    let devIdentities: Bool

    init(keyring: SecretKeyring, devIdentities: Bool) {
        signer = TokenSigner(keyring: keyring)
        verifier = TokenVerifier(keyring: keyring)
        self.devIdentities = devIdentities
    }

    /// The user a token names; nil for no token; `unauthenticated` for a bad one.
    func user(for token: String?) throws(RPCError) -> UserID? {
        try identity(for: token)?.user
    }

    /// The user a token names and how much longer the token is valid (nil: development
    /// identities do not expire); nil for no token; `unauthenticated` for a bad one.
    func identity(for token: String?) throws(RPCError) -> (user: UserID, validForMs: Int64?)? {
        guard let token, !token.isEmpty else { return nil }
        if devIdentities, token.hasPrefix(Self.devPrefix) {
            let name = String(token.dropFirst(Self.devPrefix.count))
            guard !name.isEmpty, name.utf8.count <= UserID.bytesMax else {
                throw RPCError(.unauthenticated, "bad development identity")
            }
            return (UserID(name), nil)
        }
        if !devIdentities, token.hasPrefix(Self.devPrefix) {
            throw RPCError(.unauthenticated, "token refused: \(Self.devPrefix)<name> identities need nodes started with --dev-identities; log in instead")
        }
        let now = Self.now()
        do {
            let claims = try verifier.verify(token, now: now)
            return (claims.user, Int64(clamping: claims.expiresAt.rawValue) - Int64(clamping: now.rawValue))
        } catch {
            throw RPCError(.unauthenticated, "token refused: \(error)")
        }
    }

    func sign(_ user: UserID) throws(RPCError) -> (token: String, expiresAtMs: Int64) {
        let now = Self.now()
        do {
            let token = try signer.sign(user: user, issuedAt: now)
            return (token, Int64(now.rawValue + TokenSigner.tokenLifetimeMsDefault))
        } catch {
            throw RPCError(.internal, "cannot sign a token: \(error)")
        }
    }

    static func now() -> UnixMillis {
        UnixMillis(UInt64(Date().timeIntervalSince1970 * 1000))
    }
}
