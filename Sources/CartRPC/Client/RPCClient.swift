import CartWire
import NIOConcurrencyHelpers
import NIOCore

/// Calls methods on one endpoint over a small pool of connections, reconnecting with
/// backoff when a connection is lost or the server sends go-away.
///
/// ```swift
/// let client = RPCClient(configuration: RPCClientConfiguration(port: port, security: .tls(context, expectedPeerName: "127.0.0.1")))
/// let reply = try await client.call(.echo, payload, timeout: .seconds(1))
/// for try await item in try await client.stream(.echoStream, request) { … }
/// await client.shutdown()
/// ```
public final class RPCClient: Sendable {
    public let configuration: RPCClientConfiguration
    private let slots: [ConnectionSlot]
    private let nextSlot = NIOLockedValueBox(0)
    private let health = EndpointHealth()

    public init(configuration: RPCClientConfiguration) {
        precondition(configuration.connectionsPerEndpoint > 0, "connectionsPerEndpoint must be positive")
        self.configuration = configuration
        let health = self.health
        self.slots = (0..<configuration.connectionsPerEndpoint).map { _ in ConnectionSlot(configuration: configuration, health: health) }
    }

    /// When the endpoint was last found unreachable (see `EndpointHealth`), if no connection
    /// has completed its hello since.
    public var unreachableSince: NIODeadline? { health.unreachableSince }

    /// Whether callers that can go elsewhere should leave this endpoint alone: it was found
    /// unreachable within the last `holdMs`, or before that and has not answered since. When
    /// a hold ends, the first caller to ask starts one connection attempt in the background
    /// (a probe) instead of a request paying for it: its hello makes the endpoint reachable
    /// at once, its failure starts a new hold. A node that stays hung (a connect that never
    /// completes) so costs no request its connect timeout, however long it hangs.
    public func isHeld(holdMs: Int64) -> Bool {
        switch health.hold(holdMs: holdMs) {
        case .none:
            return false
        case .held:
            return true
        case .heldProbeNow:
            let health = self.health
            Task {
                // An already open connection also answers for the endpoint.
                if (try? await self.connection()) != nil { health.markReachable() }
            }
            return true
        }
    }

    /// A connection for low-level use (`RPCConnection.startCall`), connecting if needed.
    public func connection() async throws(RPCError) -> RPCConnection {
        try await slots[nextSlotIndex()].connection()
    }

    /// Calls take the connections in turn.
    private func nextSlotIndex() -> Int {
        nextSlot.withLockedValue { next in
            defer { next = (next + 1) % slots.count }
            return next
        }
    }

    /// Calls a unary method. `timeout` (else `callTimeoutMsDefault`) travels to the server as
    /// the deadline; cancelling the calling task cancels the call on the server.
    public func call<Request, Response>(_ method: RPCMethod<Request, Response>, _ request: Request,
                                        timeout: Duration? = nil) async throws(RPCError) -> Response {
        let payload = try request.encodedRPC(allocator: ByteBufferAllocator())
        let connection = try await connection()
        let bytes = try await connection.call(method.id, payload: payload, timeoutMs: timeoutMs(timeout)).get()
        return try Response.decodeRPC(from: bytes)
    }

    /// Starts a unary call without a task when a connection is ready now (connected, not
    /// going away): encodes `request`, sends it from the connection's event loop and calls
    /// `onResponse` there with the decoded answer. No task, continuation or thread hop of its
    /// own per call. Returns false, having done nothing, when no connection is ready: `call`
    /// connects. `onResponse` may run before this returns when the call fails at once.
    public func startCallIfReady<Request, Response>(
        _ method: RPCMethod<Request, Response>, _ request: Request, timeout: Duration? = nil,
        onResponse: @escaping @Sendable (Result<Response, RPCError>) -> Void
    ) -> Bool {
        guard let connection = slots[nextSlotIndex()].readyConnection else { return false }
        let payload: ByteBuffer
        do {
            payload = try request.encodedRPC(allocator: connection.channel.allocator)
        } catch {
            onResponse(.failure(error))
            return true
        }
        let callTimeoutMs = timeoutMs(timeout)
        let start: @Sendable () -> Void = {
            connection.startCall(method.id, payload: payload, timeoutMs: callTimeoutMs) { _, result in
                onResponse(result.flatMap { bytes in Result { () throws(RPCError) in try Response.decodeRPC(from: bytes) } })
            }
        }
        if connection.eventLoop.inEventLoop {
            start()
        } else {
            connection.eventLoop.execute(start)
        }
        return true
    }

    /// Opens a server stream. Without a timeout the stream may last indefinitely.
    public func stream<Request, Item>(_ method: RPCMethod<Request, Item>, _ request: Request,
                                      timeout: Duration? = nil) async throws(RPCError) -> RPCResponseStream<Item> {
        let payload = try request.encodedRPC(allocator: ByteBufferAllocator())
        let connection = try await connection()
        return connection.stream(method.id, payload: payload, timeoutMs: timeout.map(Self.milliseconds))
    }

    /// Closes every connection; calls in progress fail with `unavailable`.
    public func shutdown() async {
        for slot in slots { await slot.shutdown() }
    }

    private func timeoutMs(_ timeout: Duration?) -> Int64? {
        timeout.map(Self.milliseconds) ?? configuration.callTimeoutMsDefault
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return max(1, seconds * 1_000 + attoseconds / 1_000_000_000_000_000)
    }
}
