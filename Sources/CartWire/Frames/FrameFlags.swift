/// The 16 flag bits of a frame header. Bits this version does not define must be zero: a
/// receiver rejects them instead of guessing, so a later version can give them a meaning
/// without old peers silently misreading frames.
public struct FrameFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// An 8-byte relative deadline (milliseconds remaining) follows the fixed header.
    /// Only request frames may set it.
    public static let hasDeadline = FrameFlags(rawValue: 1 << 0)

    /// Every bit version 1 defines.
    public static let defined: FrameFlags = [.hasDeadline]
}
