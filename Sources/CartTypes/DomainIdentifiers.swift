/// A cart. Carts are created with a random UUID string; any non-empty string up to
/// `CartID.bytesMax` bytes is accepted so that clients may choose their own ids.
public struct CartID: Identifier, ExpressibleByStringLiteral {
    public static let bytesMax = 64
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
}

/// A catalogue item (a SKU such as `sku-42`).
public struct ItemID: Identifier, ExpressibleByStringLiteral {
    public static let bytesMax = 64
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
}

/// A user. The user id is the username chosen at registration.
public struct UserID: Identifier, ExpressibleByStringLiteral {
    public static let bytesMax = 64
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
}

/// The position of an event in one cart's history. The first event of a cart has seq 1.
public struct Seq: Identifier, ExpressibleByIntegerLiteral {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt64) { self.rawValue = value }
    public static let zero = Seq(0)
    public var next: Seq { Seq(rawValue + 1) }
    public var description: String { "#\(rawValue)" }
}

/// A cart's version for optimistic concurrency. Every accepted change increments it.
public struct Version: Identifier, ExpressibleByIntegerLiteral {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt64) { self.rawValue = value }
    public static let zero = Version(0)
    public var next: Version { Version(rawValue + 1) }
    public var description: String { "v\(rawValue)" }
}
