import NIOCore
import NIOPosix

/// The event loops of the load users' clients and of the workers running on them: half the
/// machine's cores, at least one. cartload shares the machine with the cluster it measures
/// and needs a fraction of a core per few thousand operations; fewer loops mean fewer
/// operations whose next call sits on another loop, each a thread hop and often a wake-up
/// (on 2 cores one loop cut cartload's CPU per addItem by about a sixth).
enum LoadLoops {
    static let group: any EventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: max(1, System.coreCount / 2))
}
