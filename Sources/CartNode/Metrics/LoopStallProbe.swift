import Logging
import NIOCore

/// Watches one event loop for stalls: a task due every `interval` that runs `threshold` or
/// more late means the loop ran something that long without yielding (a long apply, a
/// blocking call) or the process got no CPU. Every replica, connection and timer of that
/// loop waited as long, and a stall longer than an election timeout costs leaderships.
/// Counted in `cart_loop_stalls_total` and logged as a warning.
enum LoopStallProbe {
    static let interval = TimeAmount.milliseconds(100)
    static let threshold = TimeAmount.milliseconds(250)

    static func start(on loop: any EventLoop, metrics: NodeMetrics, logger: Logger) -> RepeatedTask {
        let due = NIOLoopBoundBox.makeBoxSendingValue(NIODeadline.now() + interval, eventLoop: loop)
        return loop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let now = NIODeadline.now()
            let late = now - due.value
            // The next run is scheduled `interval` after this one ends.
            due.value = now + interval
            guard late >= threshold else { return }
            metrics.increment(.loopStalls)
            logger.warning("event loop stalled", metadata: ["ms": "\(late.nanoseconds / 1_000_000)"])
        }
    }
}
