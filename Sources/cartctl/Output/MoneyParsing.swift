import CartDomain

extension Money {
    /// Parses a price as people write it: `12.50`, `12.5`, `12`, `0.99` (at most two decimals,
    /// no sign, no float rounding).
    init?(parsing text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = Int64(parts[0]), whole >= 0 else { return nil }
        var cents: Int64 = 0
        if parts.count == 2 {
            let fraction = parts[1]
            guard (1...2).contains(fraction.count), fraction.allSatisfy(\.isASCII), let value = Int64(fraction), value >= 0 else {
                return nil
            }
            cents = fraction.count == 1 ? value * 10 : value
        }
        let (scaled, overflow) = whole.multipliedReportingOverflow(by: 100)
        guard !overflow, scaled <= Int64.max - cents else { return nil }
        self.init(minorUnits: scaled + cents)
    }
}
