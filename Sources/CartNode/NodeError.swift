/// Why a node could not start or had to stop. Stable codes, human messages.
public struct NodeError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case configuration = "node.configuration"
        case storage = "node.storage"
        case tls = "node.tls"
        case listen = "node.listen"
        case snapshot = "node.snapshot"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
