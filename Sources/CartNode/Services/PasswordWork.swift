import Atomics
import CartRPC
import NIOCore
import NIOPosix

/// The node's password hashing (PBKDF2, ~0.3 s of a core per hash at the default
/// iterations) on its thread pool, with a bound on how much may wait: register and login
/// are open to callers without a token, and an unbounded queue would let one client pin
/// the pool's threads and the node's memory for as long as it keeps sending. Past
/// `queuedMax` hashes queued or running, a call is refused at once with `resourceExhausted`.
final class PasswordWork: Sendable {
    static let queuedMaxDefault = 16

    let threadPool: NIOThreadPool
    let queuedMax: Int
    private let queued = ManagedAtomic(0)

    init(threadPool: NIOThreadPool, queuedMax: Int = PasswordWork.queuedMaxDefault) {
        self.threadPool = threadPool
        self.queuedMax = queuedMax
    }

    var inProgress: Int { queued.load(ordering: .relaxed) }

    /// Runs `work` on the pool, or fails at once when `queuedMax` are already waiting.
    func run<T: Sendable>(on loop: any EventLoop, _ work: @escaping @Sendable () throws -> T) -> EventLoopFuture<T> {
        guard queued.loadThenWrappingIncrement(ordering: .relaxed) < queuedMax else {
            queued.wrappingDecrement(ordering: .relaxed)
            return loop.makeFailedFuture(RPCError(.resourceExhausted, "too many password checks in progress on this node", retryAfterMs: 500))
        }
        return threadPool.runIfActive(eventLoop: loop, work).always { [queued] _ in
            queued.wrappingDecrement(ordering: .relaxed)
        }
    }
}
