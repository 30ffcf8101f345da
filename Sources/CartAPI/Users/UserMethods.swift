import CartRPC
import CartWire

// User methods: ids 0x0301…0x03FF.

extension MethodID {
    public static let userRegister = MethodID(0x0301)
    public static let userLogin = MethodID(0x0302)
    public static let userGet = MethodID(0x0303)
    public static let userCarts = MethodID(0x0304)
    public static let userCanAccess = MethodID(0x0305)
}

extension RPCMethod where Request == RegisterUserRequest, Response == RegisterUserReply {
    public static var userRegister: Self { RPCMethod(id: .userRegister, name: "User.register", kind: .unary) }
}

extension RPCMethod where Request == LoginRequest, Response == LoginReply {
    public static var userLogin: Self { RPCMethod(id: .userLogin, name: "User.login", kind: .unary) }
}

extension RPCMethod where Request == UserRequest, Response == UserReply {
    public static var userGet: Self { RPCMethod(id: .userGet, name: "User.get", kind: .unary) }
}

extension RPCMethod where Request == UserRequest, Response == UserCartsReply {
    public static var userCarts: Self { RPCMethod(id: .userCarts, name: "User.carts", kind: .unary) }
}

extension RPCMethod where Request == CanAccessRequest, Response == CanAccessReply {
    public static var userCanAccess: Self { RPCMethod(id: .userCanAccess, name: "User.canAccess", kind: .unary) }
}
