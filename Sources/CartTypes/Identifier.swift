/// A value wrapped in its own type so that, for example, a `Term` can never be passed
/// where a `LogIndex` is expected (TIGER_STYLE: types that cannot be mixed up).
///
/// Every identifier encodes as its bare raw value (a single-value container), so the
/// wrapper costs nothing on the wire and in snapshots.
public protocol Identifier: RawRepresentable, Hashable, Comparable, Codable, Sendable,
    CustomStringConvertible
where RawValue: Comparable & Codable & Hashable & Sendable {
    init(_ rawValue: RawValue)
}

extension Identifier {
    public init(rawValue: RawValue) { self.init(rawValue) }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        self.init(try container.decode(RawValue.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
