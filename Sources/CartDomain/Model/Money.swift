/// An amount of money in integer minor units (cents for EUR/USD). The cluster prices in a
/// single currency; money is never a floating-point number, so totals are exact and
/// identical on every replica.
public struct Money: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public let minorUnits: Int64

    public init(minorUnits: Int64) { self.minorUnits = minorUnits }

    public static let zero = Money(minorUnits: 0)

    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.minorUnits < rhs.minorUnits }

    /// `self × quantity`, or nil when the product does not fit in 64 bits.
    public func times(_ quantity: Int64) -> Money? {
        let (product, overflow) = minorUnits.multipliedReportingOverflow(by: quantity)
        return overflow ? nil : Money(minorUnits: product)
    }

    /// `self + other`, or nil when the sum does not fit in 64 bits.
    public func plus(_ other: Money) -> Money? {
        let (sum, overflow) = minorUnits.addingReportingOverflow(other.minorUnits)
        return overflow ? nil : Money(minorUnits: sum)
    }

    /// Two decimal places, for messages and tools (`1250` → `12.50`).
    public var description: String {
        let sign = minorUnits < 0 ? "-" : ""
        let magnitude = minorUnits.magnitude
        let cents = magnitude % 100
        return "\(sign)\(magnitude / 100).\(cents < 10 ? "0" : "")\(cents)"
    }

    // Encodes as the bare integer, like the identifiers: no wrapper on the wire.
    public init(from decoder: any Decoder) throws {
        minorUnits = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(minorUnits)
    }
}
