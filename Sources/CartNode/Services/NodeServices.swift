import CartAPI
import CartDomain
import CartGateway
import CartRPC
import CartStorage
import CartTypes
import CartWire
import Logging
import NIOCore
import NIOPosix

/// The node's request handlers (cart, item, user, sync, cluster services, saga and
/// follow-up commands) and what they share: placement, routing, the item cache, tokens.
final class NodeServices: Sendable {
    let node: NodeID
    let placement: Placement
    let router: Router
    let items: ItemCache
    let selfHint: LeaderHint
    let members: [ClusterMember]
    let configuration: NodeConfiguration
    let threadPool: NIOThreadPool
    let tokens: TokenService
    let metrics: NodeMetrics
    let logger: Logger
    let eventLoopGroup: any EventLoopGroup
    /// The node journal when appends are made durable through it.
    let journal: NodeJournal?
    /// The checkout sagas this node is running.
    let sagas = ClaimSet<CheckoutID>()
    /// Their tasks, which the node's shutdown ends.
    let sagaRuns = SagaRuns()
    /// Password hashing for register and login, bounded.
    let passwords: PasswordWork
    /// Who may change the item catalogue.
    let admins: Set<UserID>
    /// Link confirmations waiting to be proposed, and links being re-sent.
    let links = LinkSends()

    init(eventLoopGroup: any EventLoopGroup, node: NodeID, placement: Placement, router: Router, items: ItemCache, selfHint: LeaderHint,
         members: [ClusterMember], configuration: NodeConfiguration, threadPool: NIOThreadPool,
         tokens: TokenService, metrics: NodeMetrics, journal: NodeJournal?, logger: Logger) {
        self.metrics = metrics
        self.passwords = PasswordWork(threadPool: threadPool)
        self.node = node
        self.placement = placement
        self.router = router
        self.items = items
        self.selfHint = selfHint
        self.members = members
        self.configuration = configuration
        self.admins = Set(configuration.admins)
        self.threadPool = threadPool
        self.tokens = tokens
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
        self.journal = journal
    }

    var replicas: [PartitionID: PartitionReplica] { router.replicas }

    /// Every unary method, ready to serve directly and by forwarding.
    func makeMethodTable(admit: @escaping @Sendable (RPCPrincipal) -> RPCError?) -> MethodTable {
        let table = MethodTable(admit: admit, calls: metrics.calls)
        registerCartService(table)
        registerItemService(table)
        registerUserService(table)
        registerClusterService(table)
        table.add(.peerPropose, clientPort: false) { [self] request, caller, loop in
            proposeInternal(request.command, partition: request.partition, request: request.request, caller: caller, on: loop)
                .map { ProposeCommandReply(outcome: $0) }
        }
        table.add(.peerUserExists, clientPort: false) { [self] request, caller, loop in
            userExists(request, caller: caller, on: loop)
        }
        return table
    }

    /// Proposes a node-internal command (saga step, user link) at `partition`'s leader.
    func proposeInternal(_ command: Command, partition: PartitionID, request: RequestKey?, caller: Caller = .node,
                         on loop: any EventLoop) -> EventLoopFuture<CommandOutcome> {
        let message = ProposeCommandRequest(partition: partition, command: command, request: request)
        return router.route(.peerPropose, partition: partition, message, caller: caller, on: loop) { replica in
            replica.propose(command, request: request).map { ProposeCommandReply(outcome: $0) }
        }.map(\.outcome)
    }

    /// Fails with the domain's refusal, or returns the accepted events.
    static func accepted(_ outcome: CommandOutcome) throws(RPCError) -> [Event] {
        switch outcome {
        case .accepted(let events): return events
        case .refused(let error): throw error.rpcError
        }
    }
}

extension EventLoop {
    /// A failed future from a typed throw, for handlers that validate before routing.
    func failing<T>(_ body: () throws -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        do { return try body() } catch { return makeFailedFuture(error) }
    }
}
