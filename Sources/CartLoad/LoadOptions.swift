import CartRPC

/// What one load run does.
public struct LoadOptions: Sendable {
    public var host: String
    public var port: Int
    public var security: RPCTransportSecurity
    /// TCP connections to the server.
    public var connections: Int
    /// Calls in flight in total, spread evenly over the connections.
    public var concurrency: Int
    public var payloadBytes: Int
    /// Measured seconds, after the warm-up.
    public var durationSeconds: Double
    /// Seconds of load before measuring starts (connections warm, caches filled).
    public var warmupSeconds: Double
    /// Calls per second in total for the open loop; nil runs the closed loop.
    public var ratePerSecond: Double?
    /// Event loop threads of the load generator.
    public var threads: Int

    public init(host: String, port: Int, security: RPCTransportSecurity, connections: Int, concurrency: Int,
                payloadBytes: Int, durationSeconds: Double, warmupSeconds: Double = 1, ratePerSecond: Double? = nil,
                threads: Int) {
        self.host = host
        self.port = port
        self.security = security
        self.connections = connections
        self.concurrency = concurrency
        self.payloadBytes = payloadBytes
        self.durationSeconds = durationSeconds
        self.warmupSeconds = warmupSeconds
        self.ratePerSecond = ratePerSecond
        self.threads = threads
    }

    /// Calls kept in flight on connection `index`.
    func inflightMax(connection index: Int) -> Int {
        concurrency / connections + (index < concurrency % connections ? 1 : 0)
    }
}
