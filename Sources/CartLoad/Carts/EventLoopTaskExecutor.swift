import NIOCore
import NIOPosix

/// Runs a task's jobs on one NIO event loop. A load worker whose calls complete on the
/// client's event loops then resumes right there, instead of being handed to the global
/// executor's threads after every call (two thread wake-ups per operation on a 2-core box
/// where the cluster under test needs the CPU).
final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    let loop: any EventLoop

    init(_ loop: any EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// One executor per loop of the group the clients use.
    static func forEachLoop(of group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) -> [EventLoopTaskExecutor] {
        group.makeIterator().map(EventLoopTaskExecutor.init)
    }
}
