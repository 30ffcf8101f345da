/// The 16 flag bits of a frame header. Bits this version does not define must be zero: a
/// receiver rejects them instead of guessing, so a later version can give them a meaning
/// without old peers silently misreading frames.
public struct FrameFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// An 8-byte relative deadline (milliseconds remaining) follows the fixed header.
    /// Only request frames may set it.
    public static let hasDeadline = FrameFlags(rawValue: 1 << 0)

    /// The caller wants no answer: the callee runs the request and sends nothing back on its
    /// stream, not even an error. Only request frames of unary methods may set it; meant for
    /// messages whose loss the caller tolerates (a node's Raft messages to a peer).
    public static let noReply = FrameFlags(rawValue: 1 << 1)

    /// Every bit version 1 defines.
    public static let defined: FrameFlags = [.hasDeadline, .noReply]
}
