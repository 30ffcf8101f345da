import CartTypes

/// Mints a token straight from the cluster secret file, without a password: for operators
/// and tooling (`cartctl mint-token`), and for tests that need an authenticated user.
public enum AdminTokenMinter {
    public static func mint(
        secretFile path: String,
        user: UserID,
        now: UnixMillis,
        lifetimeMs: UInt64 = TokenSigner.tokenLifetimeMsDefault
    ) throws -> String {
        let keyring = try SecretKeyring.load(path: path)
        return try TokenSigner(keyring: keyring).sign(user: user, issuedAt: now, lifetimeMs: lifetimeMs)
    }
}
