/// A client instance (one `cartctl` process, one `cartload` worker, one gateway session).
/// Together with a `RequestID` it names one logical request, so that a retried request is
/// recognised and answered with its original result instead of being applied twice.
public struct ClientID: Identifier, ExpressibleByIntegerLiteral {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt64) { self.rawValue = value }
    public var description: String { "c\(rawValue)" }
}

/// A request number chosen by its client; a retry of the same request reuses the number.
public struct RequestID: Identifier, ExpressibleByIntegerLiteral {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt64) { self.rawValue = value }
    public var description: String { "r\(rawValue)" }
}

/// One checkout attempt of a cart. It names the stock reservations the attempt holds on the
/// items' partitions, so every step of the checkout can be retried idempotently.
public struct CheckoutID: Identifier, ExpressibleByStringLiteral {
    public static let bytesMax = 64
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
}
