/// The payload of a credit frame: the receiver of a server stream lets the sender send
/// `count` more stream items on the frame's stream. Credits add up; a sender with no credit
/// left waits. Sending an item without credit is a `protocolViolation`.
public struct Credit: Codable, Hashable, Sendable {
    public var count: UInt32

    public init(count: UInt32) {
        self.count = count
    }

    enum CodingKeys: Int, CodingKey {
        case count = 1
    }
}
