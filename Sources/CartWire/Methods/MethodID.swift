/// Names a remote method on the wire (two bytes in the request frame header). Ids are
/// assigned once in the method catalogue and never reused for a different method, so a
/// renamed method keeps its id and old clients keep working.
public struct MethodID: RawRepresentable, Hashable, Comparable, Codable, Sendable,
    ExpressibleByIntegerLiteral, CustomStringConvertible
{
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt16) { self.rawValue = value }

    /// "No method": the value in every frame header except a request's.
    public static let none = MethodID(0)

    /// Built-in: returns its payload unchanged (a unary call for connectivity checks and tests).
    public static let echo = MethodID(1)
    /// Built-in: a server stream that returns its payload as stream items (tests of credit
    /// flow control and cancellation).
    public static let echoStream = MethodID(2)

    /// Ids 1…99 are reserved for built-ins of the RPC layer; services use 100 and up.
    public static let builtinRange: ClosedRange<UInt16> = 1...99
    /// The first id available to services.
    public static let serviceFirst = MethodID(100)

    public var isBuiltin: Bool { Self.builtinRange.contains(rawValue) }
    public var description: String { "m\(rawValue)" }
    public static func < (lhs: MethodID, rhs: MethodID) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        self.rawValue = try decoder.singleValueContainer().decode(UInt16.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
