/// Protocol-wide constants: which versions this build speaks.
public enum WireProtocol {
    /// The protocol version this build prefers and writes in frame headers.
    public static let versionCurrent: UInt8 = 1
    /// Every version this build can speak, lowest first. Hello and hello-ack frames are
    /// always laid out as in version 1, so two peers can always negotiate.
    public static let versionsSupported: [UInt8] = [1]
}
