/// The payload of a stream-end frame: how many items the server sent on the stream, so the
/// client can tell a complete stream from a cut one.
public struct StreamEnd: Codable, Hashable, Sendable {
    public var itemCount: UInt64

    public init(itemCount: UInt64) {
        self.itemCount = itemCount
    }

    enum CodingKeys: Int, CodingKey {
        case itemCount = 1
    }
}
