/// Counts keepalive intervals without traffic from the peer. Pure: the connection handlers
/// call `trafficSeen()` on every inbound frame and `tick()` once per interval, and act on
/// the answer. A peer silent for `silentIntervalsMax` intervals is presumed dead.
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

    private var sawTraffic = false
    private(set) var silentIntervals = 0

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
        return silentIntervals >= Self.silentIntervalsMax ? .peerDead : .sendPing
    }
}
