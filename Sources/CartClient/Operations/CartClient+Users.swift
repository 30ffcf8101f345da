import CartAPI
import CartDomain
import CartTypes

extension CartClient {
    /// Registers `user` with a password; needs no token.
    public func register(_ user: UserID, password: String, requestKey: RequestKey? = nil) async throws(CartClientError) -> UserID {
        let request = RegisterUserRequest(user: user, password: password, request: requestKey ?? makeRequestKey())
        return try await call(.userRegister, request, route: .partition(await partition(of: user))).user
    }

    /// Checks the password and returns a token for `CartClientConfiguration.authToken`.
    public func login(_ user: UserID, password: String) async throws(CartClientError) -> LoginReply {
        try await call(.userLogin, LoginRequest(user: user, password: password), route: .partition(await partition(of: user)))
    }

    public func getUser(_ user: UserID) async throws(CartClientError) -> UserReply {
        try await call(.userGet, UserRequest(user: user), route: .partition(await partition(of: user)))
    }

    /// The carts `user` owns or that are shared with them, sorted by cart id.
    public func carts(of user: UserID) async throws(CartClientError) -> [CartLink] {
        try await call(.userCarts, UserRequest(user: user), route: .partition(await partition(of: user))).carts
    }

    public func canAccess(_ user: UserID, cart: CartID) async throws(CartClientError) -> Bool {
        try await call(.userCanAccess, CanAccessRequest(user: user, cart: cart),
                       route: .partition(await partition(of: cart))).allowed
    }

    func partition(of user: UserID) async -> PartitionID? {
        await warmUpRouting()
        return routing.partitionMap?.partition(of: user)
    }
}
