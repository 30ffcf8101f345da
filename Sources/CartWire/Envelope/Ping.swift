/// The payload of ping and pong frames. The answering pong echoes the ping's `nonce`, so a
/// peer can match answers to probes and measure round trips.
public struct Ping: Codable, Hashable, Sendable {
    public var nonce: UInt64

    public init(nonce: UInt64) {
        self.nonce = nonce
    }

    enum CodingKeys: Int, CodingKey {
        case nonce = 1
    }
}
