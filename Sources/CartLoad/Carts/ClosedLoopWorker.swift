import CartRaft
import NIOConcurrencyHelpers

/// One worker of the closed loop as a chain of callbacks: each operation starts from the
/// previous one's answer, on the event loop that delivered it, with no task, continuation or
/// hop to another thread in between. On a small machine shared with the cluster under test,
/// every microsecond the load tool spends per operation is taken from the cluster.
///
/// `@unchecked Sendable`: a worker runs one operation at a time and starts the next only from
/// the previous one's answer, so `random` is never touched by two threads at once.
final class ClosedLoopWorker: @unchecked Sendable {
    private let mode: CartLoadOptions.Mode
    private let users: LoadUsers
    private let slots: CartSlots
    private let meter: LoadMeter
    private let endNanos: UInt64
    private var random: SplitMix64
    private let stopped = NIOLockedValueBox(false)
    private var finished: (@Sendable () -> Void)?

    init(_ mode: CartLoadOptions.Mode, _ users: LoadUsers, _ slots: CartSlots, _ meter: LoadMeter,
         endNanos: UInt64, seed: UInt64) {
        self.mode = mode
        self.users = users
        self.slots = slots
        self.meter = meter
        self.endNanos = endNanos
        self.random = SplitMix64(seed: seed)
    }

    /// Runs operations back to back until `endNanos` or `stop`, then returns.
    func run() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                finished = { continuation.resume() }
                next()
            }
        } onCancel: {
            stop()
        }
    }

    /// Lets the operation in progress finish and starts no other.
    func stop() {
        stopped.withLockedValue { $0 = true }
    }

    private func next() {
        let startNanos = LoadMeter.nowNanos()
        guard startNanos < endNanos, !stopped.withLockedValue({ $0 }) else {
            finished?()
            return
        }
        let operation = CartOperation.pick(mode, using: &random)
        operation.choose(users, slots, using: &random).start(users, slots) { ran, error in
            self.meter.record(ran.rawValue, startNanos: startNanos, error: error?.code)
            self.next()
        }
    }
}
