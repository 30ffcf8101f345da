import CartAPI
import CartRPC
import CartTypes
import CartWire
import NIOCore

/// Sends each request to where it can be served: the local replica when this node leads
/// the partition, otherwise the leader over the peer link (`Peer.forward`).
///
/// Forwarding, rather than only redirecting, keeps simple clients simple (any node serves
/// any request); replies also carry the leader's hint so that smart clients go direct next
/// time. While no leader is known (an election), or the leader cannot be reached, the
/// request waits and retries every `retryPauseMs` for up to `leaderWaitMs`, then fails with
/// a retryable `notLeader`. Retrying a write is safe: every write carries a request key.
final class Router: Sendable {
    static let retryPauseMs: Int64 = 20
    static let forwardTimeoutMs: Int64 = 10_000
    /// How long a call refused by a peer's open breaker waits for the partition to get
    /// another leader before it fails with the breaker's `unavailable`.
    static let breakerLeaderWaitMs: Int64 = 1_500

    let node: NodeID
    let replicas: [PartitionID: PartitionReplica]
    let leaders: LeaderTable
    let transport: PeerTransport
    let leaderWaitMs: Int64
    /// Client addresses of the members, for the leader hints of `notLeader` answers.
    let clientAddresses: [NodeID: String]
    let guards: PeerGuard
    let metrics: NodeMetrics

    init(node: NodeID, replicas: [PartitionID: PartitionReplica], leaders: LeaderTable, transport: PeerTransport,
         leaderWaitMs: Int64, guards: PeerGuard, metrics: NodeMetrics, clientAddresses: [NodeID: String]) {
        self.clientAddresses = clientAddresses
        self.metrics = metrics
        self.guards = guards
        self.node = node
        self.replicas = replicas
        self.leaders = leaders
        self.transport = transport
        self.leaderWaitMs = leaderWaitMs
    }

    /// Serves `request` at the partition's leader: `local` runs on the leader replica's loop
    /// when that is this node.
    func route<Request, Response>(_ method: RPCMethod<Request, Response>, partition: PartitionID, _ request: Request,
                                  caller: Caller, on loop: any EventLoop,
                                  local: @escaping @Sendable (PartitionReplica) -> EventLoopFuture<Response>) -> EventLoopFuture<Response> {
        let deadline = NIODeadline.now() + .milliseconds(leaderWaitMs)
        return attempt(method, partition: partition, request, caller: caller, on: loop, deadline: deadline,
                       refusalDeadline: nil, local: local)
    }

    private func attempt<Request, Response>(_ method: RPCMethod<Request, Response>, partition: PartitionID, _ request: Request,
                                            caller: Caller, on loop: any EventLoop, deadline: NIODeadline,
                                            refusalDeadline: NIODeadline?,
                                            local: @escaping @Sendable (PartitionReplica) -> EventLoopFuture<Response>) -> EventLoopFuture<Response> {
        let leader = leaders.leader(of: partition)
        let future: EventLoopFuture<Response>
        if leader == node, let replica = replicas[partition] {
            future = replica.loop.flatSubmit { replica.isLeader ? local(replica) : replica.loop.makeFailedFuture(replica.notLeaderError()) }
        } else if caller.forwarded {
            return loop.makeFailedFuture(RPCError(.notLeader, "node \(node) does not lead \(partition)", retryAfterMs: 50))
        } else if leader != .none, let link = transport.links[leader] {
            let call = ForwardedCall(method: method.id, actor: caller.actor, payload: Self.encode(request))
            metrics.increment(.forwardedCalls)
            future = guards.guarded(leader, on: loop) {
                link.call(.peerForward, call, timeoutMs: Self.forwardTimeoutMs, on: loop)
            }.flatMapThrowing { reply in
                try Response.decodeRPC(from: ByteBuffer(bytes: reply.payload))
            }
        } else {
            future = loop.makeFailedFuture(RPCError(.notLeader, "no leader known for \(partition)", retryAfterMs: 50))
        }
        return future.hop(to: loop).flatMapError { [self] error in
            if leader != node { metrics.increment(.forwardedCallsFailed) }
            var refusalDeadline = refusalDeadline
            if let refusal = error as? GuardRefusal {
                // The breaker keeps calls off a sick leader. Wait briefly for the partition to
                // elect another (the usual reason a leader looks sick is that it is gone),
                // but fail fast with the breaker's answer if the leader stays the same.
                let limit = refusalDeadline ?? NIODeadline.now() + .milliseconds(Self.breakerLeaderWaitMs)
                refusalDeadline = limit
                guard NIODeadline.now() + .milliseconds(Self.retryPauseMs) < min(limit, deadline) else {
                    return loop.makeFailedFuture(refusal.error)
                }
            } else if !Self.shouldRetry(error) || NIODeadline.now() + .milliseconds(Self.retryPauseMs) >= deadline {
                return loop.makeFailedFuture(withLeaderHint(error, partition: partition))
            }
            return loop.flatScheduleTask(in: .milliseconds(Self.retryPauseMs)) {
                self.attempt(method, partition: partition, request, caller: caller, on: loop, deadline: deadline,
                             refusalDeadline: refusalDeadline, local: local)
            }.futureResult
        }
    }

    /// A `notLeader` answer names the leader this node believes in, so a client can go there.
    private func withLeaderHint(_ error: any Error, partition: PartitionID) -> any Error {
        guard var rpc = error as? RPCError, rpc.code == .notLeader, rpc.leaderHint == nil else { return error }
        let leader = leaders.leader(of: partition)
        if leader != .none, let address = clientAddresses[leader] {
            rpc.leaderHint = LeaderHint(nodeID: leader, address: address)
        }
        return rpc
    }

    /// Leadership and reachability problems are worth waiting out; answers are not.
    static func shouldRetry(_ error: any Error) -> Bool {
        guard let error = error as? RPCError else { return false }
        return error.code == .notLeader || error.code == .unavailable || error.code == .goingAway
    }

    static func encode<M: RPCMessage>(_ message: M) -> [UInt8] {
        var buffer = ByteBufferAllocator().buffer(capacity: 128)
        try? message.encodeRPC(into: &buffer)
        return Array(buffer.readableBytesView)
    }
}
