import CartAPI
import CartDomain
import CartGateway
import CartRPC
import CartTypes
import NIOCore

// Users: register and log in (PBKDF2 hashing off the event loops, on the node's thread
// pool), read a user and their carts (only one's own), and ask whether a user can access
// a cart (decided at the cart's partition from its member list).

extension NodeServices {
    func registerUserService(_ table: MethodTable) {
        table.add(.userRegister) { [self] request, caller, loop in
            loop.failing {
                guard !request.user.rawValue.isEmpty, request.user.rawValue.utf8.count <= UserID.bytesMax,
                      !request.user.rawValue.hasPrefix(TokenService.devPrefix) else {
                    throw RPCError(.invalidArgument, "a user name is 1…\(UserID.bytesMax) bytes")
                }
                // Bytes first: they bound the work of counting characters.
                guard request.password.utf8.count <= CartAPILimits.passwordBytesMax,
                      request.password.count >= CartAPILimits.passwordCharactersMin else {
                    throw RPCError(.invalidArgument, "a password is at least \(CartAPILimits.passwordCharactersMin) characters "
                                   + "and at most \(CartAPILimits.passwordBytesMax) bytes")
                }
                let iterations = configuration.passwordHashIterations
                return router.route(.userRegister, partition: placement.partition(of: request.user), request, caller: caller, on: loop) { [self] replica in
                    // A name already taken costs no hash: the registration is refused, or, if this
                    // request registered it (a retry), answered as the first attempt was.
                    replica.readLinearizable { state in Self.earlierRegistration(request, in: state) }.flatMap { [self] earlier in
                        if let earlier { return replica.loop.makeSucceededFuture(earlier) }
                        return passwords.run(on: replica.loop) {
                            try PasswordHasher(iterations: iterations).hash(password: request.password)
                        }.flatMap { hash in
                            replica.propose(.registerUser(RegisterUser(user: request.user, passwordHash: Array(hash.utf8))),
                                            request: request.request)
                        }
                    }.flatMapThrowing { outcome in
                        _ = try Self.accepted(outcome)
                        return RegisterUserReply(user: request.user)
                    }
                }
            }
        }
        table.add(.userLogin) { [self] request, caller, loop in
            router.route(.userLogin, partition: placement.partition(of: request.user), request, caller: caller, on: loop) { [self] replica in
                replica.readLinearizable { state in state.users[request.user]?.passwordHash }
                    .flatMap { [self] stored in
                        let iterations = configuration.passwordHashIterations
                        return passwords.run(on: replica.loop) { () throws -> LoginReply in
                            let valid: Bool
                            if let stored {
                                let encoded = String(decoding: stored, as: UTF8.self)
                                valid = (try? PasswordHasher(iterations: 1).verify(password: request.password, against: encoded)) ?? false
                            } else {
                                // As long as a real check: the answer's timing must not tell which names exist.
                                valid = try PasswordHasher(iterations: iterations).verifyWithoutUser(password: request.password)
                            }
                            guard stored != nil, valid else {
                                throw RPCError(.unauthenticated, "unknown user or wrong password")
                            }
                            let (token, expiresAtMs) = try self.tokens.sign(request.user)
                            return LoginReply(user: request.user, token: token, expiresAtMs: expiresAtMs)
                        }
                    }
            }
        }
        table.add(.userGet) { [self] request, caller, loop in
            loop.failing {
                try checkSelf(request.user, caller)
                return readUser(.userGet, request, caller: caller, on: loop) { user in
                    UserReply(user: user.id, registeredAt: user.registeredAt, carts: user.carts)
                }
            }
        }
        table.add(.userCarts) { [self] request, caller, loop in
            loop.failing {
                try checkSelf(request.user, caller)
                return readUser(.userCarts, request, caller: caller, on: loop) { UserCartsReply(carts: $0.carts) }
            }
        }
        table.add(.userCanAccess) { [self] request, caller, loop in
            loop.failing {
                let asker = try caller.user()
                return router.route(.userCanAccess, partition: placement.partition(of: request.cart), request, caller: caller, on: loop) { replica in
                    replica.readLinearizable { (state) throws(RPCError) -> CanAccessReply in
                        guard let cart = state.carts[request.cart] else { throw DomainError.cartNotFound(request.cart).rpcError }
                        // Who may see a cart's members: its members, and anyone asking about themselves.
                        guard asker == request.user || cart.isMember(asker) else {
                            throw DomainError.permissionDenied(asker).rpcError
                        }
                        return CanAccessReply(allowed: cart.isMember(request.user))
                    }
                }
            }
        }
    }

    /// Succeeds once every one of `users` is known to be registered; fails `notFound` naming
    /// one that is not. Each is read at its partition's leader (`Peer.userExists`), all at once.
    func checkRegistered(_ users: [UserID], on loop: any EventLoop) -> EventLoopFuture<Void> {
        let checks = users.map { user in
            userExists(UserRequest(user: user), caller: Caller(actor: nil), on: loop).flatMapThrowing { reply in
                guard reply.exists else { throw DomainError.userNotFound(user).rpcError }
            }
        }
        return EventLoopFuture.andAllSucceed(checks, on: loop)
    }

    /// `Peer.userExists`: with development identities every user exists (needing no registration).
    func userExists(_ request: UserRequest, caller: Caller, on loop: any EventLoop) -> EventLoopFuture<UserExistsReply> {
        router.route(.peerUserExists, partition: placement.partition(of: request.user), request, caller: caller, on: loop) { replica in
            replica.readLinearizable { state in
                UserExistsReply(exists: state.users[request.user] != nil || self.configuration.devIdentities)
            }
        }
    }

    /// The outcome to answer without hashing when `request.user` is already registered: the
    /// dedup window's (a retry of the registration that took the name), else the refusal the
    /// domain would give. Nil when the name is free. The fingerprint leaves the hash out, so
    /// the command asked about needs none.
    static func earlierRegistration(_ request: RegisterUserRequest, in state: PartitionState) -> CommandOutcome? {
        guard state.users[request.user] != nil else { return nil }
        let asked = Command.registerUser(RegisterUser(user: request.user, passwordHash: []))
        return CommandOutcome(state.earlierOutcome(of: asked, request: request.request) ?? .failure(.userAlreadyExists(request.user)))
    }

    private func checkSelf(_ user: UserID, _ caller: Caller) throws(RPCError) {
        guard try caller.user() == user else {
            throw RPCError(.permissionDenied, "a user may only read their own record")
        }
    }

    private func readUser<Response>(_ method: RPCMethod<UserRequest, Response>, _ request: UserRequest, caller: Caller,
                                    on loop: any EventLoop, _ reply: @escaping @Sendable (User) -> Response) -> EventLoopFuture<Response> {
        router.route(method, partition: placement.partition(of: request.user), request, caller: caller, on: loop) { replica in
            replica.readLinearizable { (state) throws(RPCError) -> Response in
                guard let user = state.users[request.user] else {
                    // Development identities need no registration: an unknown user owns nothing.
                    if self.configuration.devIdentities, let empty = Self.emptyUser(request.user) { return reply(empty) }
                    throw DomainError.userNotFound(request.user).rpcError
                }
                return reply(user)
            }
        }
    }

    static func emptyUser(_ id: UserID) -> User? {
        User(id: id, passwordHash: [], registeredAt: .zero)
    }
}
