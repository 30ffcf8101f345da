import CartRPC
import CartTypes

/// Who a request is served for, and whether it already crossed one node (a forwarded call
/// is never forwarded again: a leader that lost its leadership answers `notLeader`).
struct Caller: Sendable {
    var actor: UserID?
    var forwarded: Bool
    /// The node's own work (saga steps, link sends), not a client's or a peer's call.
    var isNode: Bool

    init(actor: UserID?, forwarded: Bool = false, isNode: Bool = false) {
        self.actor = actor
        self.forwarded = forwarded
        self.isNode = isNode
    }

    /// The node itself, proposing a command of its own.
    static let node = Caller(actor: nil, isNode: true)

    init(_ context: RPCCallContext) {
        self.init(actor: context.principal.userID)
    }

    /// The authenticated user, or `unauthenticated`.
    func user() throws(RPCError) -> UserID {
        guard let actor else { throw RPCError(.unauthenticated, "this method needs a logged-in user (a token in the hello)") }
        return actor
    }

    /// The authenticated user if it is one of `admins`; else `unauthenticated` (no user) or
    /// `permissionDenied`.
    func admin(_ admins: Set<UserID>) throws(RPCError) -> UserID {
        let user = try user()
        guard admins.contains(user) else {
            throw RPCError(.permissionDenied, "changing the item catalogue needs an admin; \(user) is not one")
        }
        return user
    }
}
