/// Counts keepalive intervals without traffic from the peer. Pure: the connection handlers
/// call `trafficSeen()` on every inbound frame and `tick()` once per interval, and act on
/// the answer. A peer silent for `deadAfter` intervals (the keepalive's
/// `silentIntervalsMax`, or fewer for the client's stall watch) is presumed dead.
struct KeepaliveClock {
    enum Action: Equatable {
        /// The peer spoke during the last interval.
        case none
        /// The peer was silent for one interval: probe it with a ping.
        case sendPing
        /// The peer stayed silent after pings: close the connection.
        case peerDead
    }

    /// Silent intervals after which the peer is presumed dead (the hello-ack promises 3).
    static let silentIntervalsMax = 3

    private let deadAfter: Int
    private var sawTraffic = false
    private(set) var silentIntervals = 0

    init(deadAfter: Int = KeepaliveClock.silentIntervalsMax) {
        precondition(deadAfter >= 2, "one silent interval asks for a ping; the answer needs another")
        self.deadAfter = deadAfter
    }

    mutating func trafficSeen() {
        sawTraffic = true
    }

    mutating func tick() -> Action {
        if sawTraffic {
            sawTraffic = false
            silentIntervals = 0
            return .none
        }
        silentIntervals += 1
        return silentIntervals >= deadAfter ? .peerDead : .sendPing
    }
}
