import CartTypes

/// Names one cluster secret in a `SecretKeyring`. Every token carries the id of the key that
/// signed it, so keys can rotate: a new key signs, old keys keep verifying until removed.
public struct KeyID: Identifier, ExpressibleByIntegerLiteral {
    public let rawValue: UInt32
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt32) { self.rawValue = value }
    public var description: String { "k\(rawValue)" }
}
