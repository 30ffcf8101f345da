/// The payload of a cancel frame: why the caller gave up. The stream id in the header says
/// which call; the server stops work where it can and answers with a `cancelled` error
/// frame (or nothing, if the call already finished).
public struct Cancel: Codable, Hashable, Sendable {
    public var reason: String?

    public init(reason: String? = nil) {
        self.reason = reason
    }

    enum CodingKeys: Int, CodingKey {
        case reason = 1
    }
}
