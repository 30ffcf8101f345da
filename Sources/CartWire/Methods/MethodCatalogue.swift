/// One remote method: its id on the wire, its name for logs and tools, and its shape.
public struct MethodDescriptor: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// One request frame, then one response or error frame.
        case unary
        /// One request frame, then stream items (each paid for by credit), then a stream end
        /// or error frame.
        case serverStream
    }

    public let id: MethodID
    /// `Service.method`, for example `Cart.addItem`.
    public let name: String
    public let kind: Kind

    public init(id: MethodID, name: String, kind: Kind) {
        self.id = id
        self.name = name
        self.kind = kind
    }

    public var description: String { "\(name)(\(id.rawValue))" }
}

/// The table of every method a peer can call. Higher layers add their services' methods;
/// the built-ins are always present. Registering an id or a name twice is a programming
/// error (two methods would share bytes on the wire).
public struct MethodCatalogue: Sendable {
    public static let builtins: [MethodDescriptor] = [
        MethodDescriptor(id: .echo, name: "Builtin.echo", kind: .unary),
        MethodDescriptor(id: .echoStream, name: "Builtin.echoStream", kind: .serverStream),
    ]

    private var byID: [MethodID: MethodDescriptor] = [:]
    private var byName: [String: MethodDescriptor] = [:]

    /// A catalogue holding only the built-ins.
    public init() {
        for method in Self.builtins { insert(method) }
    }

    /// A catalogue holding the built-ins and `methods`.
    public init(_ methods: [MethodDescriptor]) {
        self.init()
        for method in methods {
            precondition(!method.id.isBuiltin && method.id != .none,
                         "method \(method) uses an id reserved for built-ins")
            insert(method)
        }
    }

    private mutating func insert(_ method: MethodDescriptor) {
        precondition(byID[method.id] == nil, "method id \(method.id.rawValue) registered twice")
        precondition(byName[method.name] == nil, "method name \(method.name) registered twice")
        byID[method.id] = method
        byName[method.name] = method
    }

    public func method(_ id: MethodID) -> MethodDescriptor? { byID[id] }
    public func method(named name: String) -> MethodDescriptor? { byName[name] }

    /// Every method, ordered by id.
    public var all: [MethodDescriptor] { byID.values.sorted { $0.id < $1.id } }
}
