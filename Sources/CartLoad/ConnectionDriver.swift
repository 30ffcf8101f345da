import CartRPC
import CartWire
import Dispatch
import NIOCore

/// Drives echo calls on one connection, on its event loop, through the low-level API (no
/// task per call). Each call's tag is the time it counts from:
///
/// - closed loop: the send time; every answer immediately sends the next call, keeping
///   `inflightMax` in flight;
/// - open loop: the *intended* send time on a fixed schedule. When the server falls behind
///   and `inflightMax` calls are outstanding, due calls wait, and their latency still counts
///   from when they should have been sent, so slow periods are not hidden (coordinated
///   omission corrected).
///
/// Only calls sent at or after `measureStartNanos` and answered by `measureEndNanos` count.
final class ConnectionDriver {
    private let connection: RPCConnection
    private let payload: ByteBuffer
    private let inflightMax: Int
    private let measureStartNanos: UInt64
    private let measureEndNanos: UInt64
    /// Open loop only: nanoseconds between intended sends on this connection.
    private let intervalNanos: UInt64?
    private var nextIntendedNanos: UInt64 = 0
    private var inflight = 0
    private var ticker: RepeatedTask?
    private var onResponse: RPCResponseCallback?
    /// This driver, for work scheduled on its loop (set by `start`, cleared by `stop`).
    private var bound: NIOLoopBound<ConnectionDriver>?
    private(set) var stats = LatencyStats()

    /// How often the open loop looks for due calls.
    static let openLoopTickMicros: Int64 = 200

    init(connection: RPCConnection, payload: ByteBuffer, inflightMax: Int, measureStartNanos: UInt64,
         measureEndNanos: UInt64, intervalNanos: UInt64?) {
        self.connection = connection
        self.payload = payload
        self.inflightMax = inflightMax
        self.measureStartNanos = measureStartNanos
        self.measureEndNanos = measureEndNanos
        self.intervalNanos = intervalNanos
    }

    static func nowNanos() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Starts sending; call on the connection's event loop.
    func start(bound: NIOLoopBound<ConnectionDriver>) {
        self.bound = bound
        // One callback for every call of this connection: no closure allocated per call.
        onResponse = { tag, result in bound.value.completed(tag: tag, result: result) }
        if intervalNanos == nil {
            for _ in 0..<inflightMax { send(tag: Self.nowNanos()) }
        } else {
            nextIntendedNanos = Self.nowNanos()
            ticker = connection.eventLoop.scheduleRepeatedTask(initialDelay: .zero,
                                                              delay: .microseconds(Self.openLoopTickMicros)) { _ in
                bound.value.sendDue()
            }
        }
    }

    /// Stops sending; also breaks the driver ↔ callback reference cycle.
    func stop() {
        ticker?.cancel()
        ticker = nil
        onResponse = nil
        bound = nil
    }

    private func send(tag: UInt64) {
        guard let onResponse else { return }
        inflight += 1
        connection.startCall(.echo, payload: payload, tag: tag, onResponse: onResponse)
    }

    private func sendDue() {
        guard let intervalNanos else { return }
        let now = Self.nowNanos()
        if now >= measureEndNanos { ticker?.cancel() }
        while nextIntendedNanos <= now && nextIntendedNanos < measureEndNanos && inflight < inflightMax {
            send(tag: nextIntendedNanos)
            nextIntendedNanos += intervalNanos
        }
    }

    private func completed(tag: UInt64, result: Result<ByteBuffer, RPCError>) {
        inflight -= 1
        let now = Self.nowNanos()
        if tag >= measureStartNanos && now <= measureEndNanos {
            switch result {
            case .success(let reply) where reply.readableBytes == payload.readableBytes:
                stats.record(nanos: now - tag)
            default:
                stats.errors += 1
            }
        }
        guard case .success = result else {
            // The slot is kept: the run stays at the concurrency it names. The next call goes out
            // a millisecond later, not from here: a closed connection fails calls synchronously,
            // and resending at once would recurse (and spin while nothing can succeed).
            if intervalNanos == nil, now < measureEndNanos, let bound {
                connection.eventLoop.scheduleTask(in: .milliseconds(1)) {
                    let driver = bound.value
                    if Self.nowNanos() < driver.measureEndNanos { driver.send(tag: Self.nowNanos()) }
                }
            }
            return
        }
        if intervalNanos == nil {
            if now < measureEndNanos { send(tag: now) }
        } else {
            sendDue()
        }
    }
}
