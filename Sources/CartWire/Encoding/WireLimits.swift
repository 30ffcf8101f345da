/// Bounds on what a decoder accepts, so that no input can make it recurse without end,
/// loop for long, or allocate much more than the input's own size.
public struct WireLimits: Sendable, Hashable {
    /// Deepest nesting of messages, repeated fields and enum payloads inside one value.
    public var depthMax: Int
    /// Most fields and repeated elements visited while decoding one value, in total.
    public var elementsMax: Int
    /// Largest input accepted, and so the largest string or byte field inside it.
    public var bytesMax: Int

    public init(depthMax: Int = 32, elementsMax: Int = 1 << 20, bytesMax: Int = 16 << 20) {
        precondition(depthMax > 0 && elementsMax > 0 && bytesMax > 0, "WireLimits must be positive")
        self.depthMax = depthMax
        self.elementsMax = elementsMax
        self.bytesMax = bytesMax
    }

    public static let `default` = WireLimits()
}
