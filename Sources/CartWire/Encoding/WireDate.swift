/// Dates travel as whole milliseconds since 1970-01-01T00:00:00Z (zigzag varint).
enum WireDate {
    /// ±8.64e15 ms (±100 million days, JavaScript's Date range): every such value converts
    /// to a Swift `Date` and back without overflow, and any language can represent it.
    static let millisecondsMax: Int64 = 8_640_000_000_000_000
    static let millisecondsRange = -millisecondsMax...millisecondsMax
}
