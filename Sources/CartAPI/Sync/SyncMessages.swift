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
    /// When the answering node's replica applied the event's log entry, which is when it
    /// learned that the entry committed: microseconds since the Unix epoch on that node's
    /// wall clock (`WallClockMicros`). On the partition leader this is the cluster's commit;
    /// a follower learns it with the leader's next append, so its times are later. Nil for
    /// events re-read from the retained history (the start of a watch, a resume, a watcher
    /// that fell behind): they committed before the stream could see them. Absent from
    /// nodes that predate the field.
    public var committedAtMicros: UInt64?

    public init(event: CartEvent, committedAtMicros: UInt64? = nil) {
        self.event = event
        self.committedAtMicros = committedAtMicros
    }

    enum CodingKeys: Int, CodingKey { case event = 1, committedAtMicros = 2 }
}
