/// Identifies one call (a request and everything that answers it) on one connection.
/// The connection's initiator picks ids; they increase and are never reused on a connection.
/// Stream 0 is the connection itself.
public struct StreamID: RawRepresentable, Hashable, Comparable, Codable, Sendable,
    ExpressibleByIntegerLiteral, CustomStringConvertible
{
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt32) { self.rawValue = value }

    /// The connection-level pseudo-stream.
    public static let connection = StreamID(0)

    public var isConnection: Bool { rawValue == 0 }
    public var description: String { "s\(rawValue)" }
    public static func < (lhs: StreamID, rhs: StreamID) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        self.rawValue = try decoder.singleValueContainer().decode(UInt32.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
