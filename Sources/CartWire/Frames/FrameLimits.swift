/// How large a frame a peer accepts. The length prefix is checked against
/// `frameBytesMax` as soon as its four bytes arrive, before any of the frame is buffered.
public struct FrameLimits: Sendable, Hashable {
    /// Default for `frameBytesMax`: 1 MiB, enough for any cart and a page of events.
    public static let frameBytesDefault = 1 << 20
    /// No configuration may raise `frameBytesMax` above 16 MiB: a peer announcing a larger
    /// frame is treated as hostile, whatever the local settings say.
    public static let frameBytesHardCap = 16 << 20
    /// Largest first frame (the hello) an acceptor buffers: before the hello, nobody is
    /// authenticated. A hello is a few hundred bytes (versions, identity, a token).
    public static let helloBytesMax = 16 << 10

    /// Largest accepted value of the length prefix (header plus payload, excluding the
    /// prefix itself).
    public let frameBytesMax: Int

    /// `frameBytesMax` must be between `FrameHeader.fixedBytes + FrameHeader.deadlineBytes`
    /// and `frameBytesHardCap`; configuration is checked by the caller, so a bad value here is
    /// a programming error.
    public init(frameBytesMax: Int = FrameLimits.frameBytesDefault) {
        precondition(frameBytesMax >= FrameHeader.fixedBytes + FrameHeader.deadlineBytes
                        && frameBytesMax <= Self.frameBytesHardCap,
                     "frameBytesMax must be in \(FrameHeader.fixedBytes + FrameHeader.deadlineBytes)...\(Self.frameBytesHardCap)")
        self.frameBytesMax = frameBytesMax
    }

    public static let `default` = FrameLimits()
}
