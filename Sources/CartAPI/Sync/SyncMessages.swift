import CartDomain
import CartRPC
import CartTypes
import CartWire

/// `Sync.watch`: a server stream of one cart's committed events, in seq order, starting at
/// `fromSeq` (0 and 1 both mean "from the first event"; to resume after a dropped
/// connection, send the last seq received + 1). The stream first replays the retained
/// history and then follows live events; it never skips or repeats a seq. If `fromSeq` is
/// older than the retained history, the stream ends with `failedPrecondition` whose message
/// starts `[27] history truncated` and names the oldest retained seq: re-read the cart with
/// `Cart.get` and watch again from its `seq + 1`.
public struct WatchRequest: Codable, Hashable, Sendable, RPCMessage {
    public var cart: CartID
    public var fromSeq: Seq

    public init(cart: CartID, fromSeq: Seq) {
        self.cart = cart
        self.fromSeq = fromSeq
    }

    enum CodingKeys: Int, CodingKey { case cart = 1, fromSeq = 2 }
}

/// One stream item of `Sync.watch`.
public struct WatchItem: Codable, Hashable, Sendable, RPCMessage {
    public var event: CartEvent

    public init(event: CartEvent) { self.event = event }

    enum CodingKeys: Int, CodingKey { case event = 1 }
}
