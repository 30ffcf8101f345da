/// Limits of the client API, named with their unit.
public enum CartAPILimits {
    /// Most events in one `Cart.events` page.
    public static let eventsPerPageMax: UInt32 = 1_000
    /// Most users in one `Cart.share` request.
    public static let usersPerShareMax = 64
    /// Longest password accepted by `User.register` and `User.login`, in UTF-8 bytes.
    public static let passwordBytesMax = 1_024
    /// Shortest password `User.register` accepts, in characters (NIST SP 800-63B's minimum
    /// for a password the user chose). `User.login` checks no length: a wrong password is
    /// `unauthenticated` whatever its length.
    public static let passwordCharactersMin = 8
}
