import Atomics
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
///
/// Waiting is for what will come. A node that has heard from no majority of a partition's
/// replicas for `contactWindowMs` (`PeerContact`) is cut off: no leader will reach it, so a
/// call for that partition fails at once with `unavailable`, and the client asks another
/// node. A call for a leader this node has not heard from that long fails with `notLeader`
/// naming it, as the client may reach it directly; so does one that the leader's breaker
/// refuses while the leader is heard (up and leading: no election will help). (A forward
/// already waiting on a path that went silent fails after 1–1.5 s by the peer link's stall
/// probe, and is then retried under these rules.) And a hosted
/// partition left without a leader waits at most `contactWindowMs` (a normal election takes
/// less), so a node that only a cut link keeps from its leader sends the client on to a node
/// that can reach it.
///
/// A node learns the leaders of the partitions it hosts from its replicas. For the others
/// (a cluster with more nodes than the replication factor) it asks their replicas in turn:
/// a replica that does not lead refuses a forwarded call with `notLeader` and a hint naming
/// its leader, which this node then remembers until a call to it fails.
final class Router: Sendable {
    static let retryPauseMs: Int64 = 20
    static let forwardTimeoutMs: Int64 = 10_000
    /// How long a call refused by a peer's open breaker waits for the partition to get
    /// another leader before it fails with the breaker's `unavailable`.
    static let breakerLeaderWaitMs: Int64 = 1_500

    let node: NodeID
    let placement: Placement
    let replicas: [PartitionID: PartitionReplica]
    let leaders: LeaderTable
    let transport: PeerTransport
    let leaderWaitMs: Int64
    let contact: PeerContact
    /// How long a peer may be silent before this node stops counting on it (a few election
    /// timeouts), and the longest a hosted partition's call waits for a leader.
    let contactWindowMs: Int64
    /// Client addresses of the members, for the leader hints of `notLeader` answers.
    let clientAddresses: [NodeID: String]
    let guards: PeerGuard
    let metrics: NodeMetrics
    /// Set by the node's shutdown once its replicas have stopped (see `stop`).
    private let stopped = ManagedAtomic(false)
    /// Set by the node's shutdown once its servers have closed (see `close`).
    private let closed = ManagedAtomic(false)
    /// Retries scheduled and not yet answered, each counted until its call's answer.
    private let retries = ManagedAtomic(0)

    init(node: NodeID, placement: Placement, replicas: [PartitionID: PartitionReplica], leaders: LeaderTable,
         transport: PeerTransport, leaderWaitMs: Int64, contact: PeerContact, contactWindowMs: Int64,
         guards: PeerGuard, metrics: NodeMetrics, clientAddresses: [NodeID: String]) {
        self.contact = contact
        self.contactWindowMs = contactWindowMs
        self.placement = placement
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
        let now = NIODeadline.now()
        let deadline = now + .milliseconds(leaderWaitMs)
        let leaderlessDeadline = now + .milliseconds(min(leaderWaitMs, contactWindowMs))
        return attempt(method, partition: partition, request, caller: caller, on: loop, deadline: deadline,
                       leaderlessDeadline: leaderlessDeadline, refusalDeadline: nil, tries: 0, local: local)
    }

    /// From now on the node's own calls (saga steps, link sends) fail at once with
    /// `unavailable`, and so do the retries of those already waiting here: the node is
    /// stopping, what they wait for (its replicas' leadership, the links it is closing) will
    /// not come, and its shutdown waits for its sagas. Calls from clients and peers keep
    /// their waits, which space their retries until the partitions elect new leaders
    /// (failing those at once measured more client retries, and some failures, per stop).
    func stop() {
        stopped.store(true, ordering: .sequentiallyConsistent)
    }

    /// From now on every call fails at once with `unavailable`, and no call waits here any
    /// more: the node's servers are closed, so the clients and peers whose calls are still
    /// waiting have gone (or given up on their drain). The node's shutdown then waits for
    /// the retries already scheduled (`waitForRetries`) before it stops its threads: a retry
    /// that ran later would send its call to a stopped event loop.
    func close() {
        stopped.store(true, ordering: .sequentiallyConsistent)
        closed.store(true, ordering: .sequentiallyConsistent)
    }

    /// Waits until no retry is scheduled or running, at most `limitMs`; false if some still are.
    func waitForRetries(limitMs: Int64) async -> Bool {
        await waitUntil(limitMs: limitMs) { retriesWaiting == 0 }
    }

    /// Retries scheduled or running (each nested retry of a call counts until the call ends).
    var retriesWaiting: Int { retries.load(ordering: .sequentiallyConsistent) }

    private func shuttingDown(_ caller: Caller) -> Bool {
        // Sequentially consistent, with the retry count: a shutdown that finds no retry
        // counted after `close` finds none scheduled later either.
        closed.load(ordering: .sequentiallyConsistent) || (caller.isNode && stopped.load(ordering: .sequentiallyConsistent))
    }

    /// The answer to give at once, without waiting and trying again here, when this node
    /// cannot get a call for `partition` served and another node may: it hears no majority of
    /// the partition's replicas, it has waited its share for a leader, or it cannot hear the
    /// leader. Nil while waiting here makes sense.
    private func reasonToGiveUp(partition: PartitionID, leader: NodeID, leaderlessDeadline: NIODeadline) -> RPCError? {
        guard replicas[partition] != nil else { return nil }
        if leader == .none {
            if !contact.hearsMajority(of: placement.replicas(of: partition), self: node, withinMs: contactWindowMs) {
                return RPCError(.unavailable, "node \(node) has heard from no majority of \(partition)'s replicas "
                                + "for \(contactWindowMs) ms: it is cut off from them; ask another node",
                                retryAfterMs: UInt64(Self.retryPauseMs))
            }
            if NIODeadline.now() >= leaderlessDeadline {
                return RPCError(.notLeader, "node \(node) has no leader for \(partition) after "
                                + "\(min(leaderWaitMs, contactWindowMs)) ms; ask another node",
                                retryAfterMs: UInt64(Self.retryPauseMs))
            }
        } else if leader != node {
            // An open breaker answers for the peer itself (`guarded`), with its retry-after.
            if let since = transport.links[leader]?.unreachableSince(), case .closed = guards.breakers.state(of: leader) {
                return unreachableLeader(leader, partition: partition, since: since)
            }
            if !contact.hears(leader, self: node, withinMs: contactWindowMs) {
                return silentLeader(leader, partition: partition)
            }
        }
        return nil
    }

    /// The link to the leader found it out of reach (a connect failed, or a connection was
    /// given up as hung or broke) and has not connected since: the path from here to the
    /// leader is cut (or the leader died, which its followers here learn at once and then
    /// know no leader). Its heartbeats may still arrive here, over its own link; the client
    /// may well reach it directly, and the refusal names it.
    private func unreachableLeader(_ leader: NodeID, partition: PartitionID, since: NIODeadline) -> RPCError {
        let downMs = max(0, (NIODeadline.now() - since).nanoseconds / 1_000_000)
        return redirect(to: leader, partition: partition, because: RPCError(
            .unavailable, "node \(node)'s link to \(partition)'s leader \(leader) has found it out of reach for \(downMs) ms"))
    }

    /// The client may well reach the leader this node cannot: the refusal names it.
    private func silentLeader(_ leader: NodeID, partition: PartitionID) -> RPCError {
        redirect(to: leader, partition: partition, because: RPCError(
            .unavailable, "\(partition)'s leader \(leader) has not been heard from for \(contactWindowMs) ms"))
    }

    /// `notLeader` naming `leader`, for a call this node cannot get to it: why, then where to go.
    private func redirect(to leader: NodeID, partition: PartitionID, because reason: RPCError) -> RPCError {
        var refusal = RPCError(.notLeader, "\(reason.message): node \(node) cannot reach \(partition)'s leader; "
                               + "ask \(leader) directly or another node", retryAfterMs: reason.retryAfterMs)
        refusal.leaderHint = hint(naming: leader)
        return refusal
    }

    /// `node` and its client address, for a client to go there (nil for an unknown node).
    private func hint(naming node: NodeID) -> LeaderHint? {
        clientAddresses[node].map { LeaderHint(nodeID: node, address: $0) }
    }

    /// Where to send a call for `partition`: its known leader; for a partition this node does
    /// not host and whose leader it does not know, one of its replicas (the `tries`-th, in
    /// turn), which serves the call if it leads and otherwise names its leader.
    private func target(of partition: PartitionID, tries: Int) -> NodeID {
        let leader = leaders.leader(of: partition)
        guard leader == .none, replicas[partition] == nil else { return leader }
        let candidates = placement.replicas(of: partition)
        return candidates.isEmpty ? .none : candidates[tries % candidates.count]
    }

    /// What a failed call taught about the leader of a partition this node does not host:
    /// the hint of a `notLeader` refusal, or that the remembered leader is not (or no longer) it.
    private func learn(from error: any Error, partition: PartitionID, target: NodeID) {
        guard replicas[partition] == nil else { return }  // hosted: the local replica knows
        if let rpc = error as? RPCError, rpc.code == .notLeader, let hint = rpc.leaderHint,
           hint.nodeID != target, placement.replicas(of: partition).contains(hint.nodeID) {
            leaders.set(hint.nodeID, for: partition)
        } else if error is GuardRefusal || Self.shouldRetry(error) {
            leaders.set(.none, for: partition)
        }
    }

    private func attempt<Request, Response>(_ method: RPCMethod<Request, Response>, partition: PartitionID, _ request: Request,
                                            caller: Caller, on loop: any EventLoop, deadline: NIODeadline,
                                            leaderlessDeadline: NIODeadline, refusalDeadline: NIODeadline?, tries: Int,
                                            local: @escaping @Sendable (PartitionReplica) -> EventLoopFuture<Response>) -> EventLoopFuture<Response> {
        guard !shuttingDown(caller) else { return loop.makeFailedFuture(shutdownError) }
        let leader = target(of: partition, tries: tries)
        if let refusal = reasonToGiveUp(partition: partition, leader: leader, leaderlessDeadline: leaderlessDeadline) {
            metrics.increment(.callsGivenUp)
            return loop.makeFailedFuture(withLeaderHint(refusal, partition: partition))
        }
        let future: EventLoopFuture<Response>
        if leader == node, let replica = replicas[partition] {
            // Already on the replica's loop (a node with one loop, or a connection that shares
            // the replica's): serve now rather than in a task queued behind this one.
            let serve: @Sendable () -> EventLoopFuture<Response> = {
                replica.isLeader ? local(replica) : replica.loop.makeFailedFuture(replica.notLeaderError())
            }
            future = replica.loop.inEventLoop ? serve() : replica.loop.flatSubmit(serve)
        } else if caller.forwarded {
            // No second hop: the caller retries, going straight to the leader this hint names.
            return loop.makeFailedFuture(withLeaderHint(RPCError(.notLeader, "node \(node) does not lead \(partition)",
                                                                 retryAfterMs: 50), partition: partition))
        } else if leader != .none, let link = transport.links[leader] {
            let call = ForwardedCall(method: method.id, actor: caller.actor, payload: Self.encode(request))
            metrics.increment(.forwardedCalls)
            future = guards.guarded(leader, on: loop) {
                link.call(.peerForward, call, timeoutMs: Self.forwardTimeoutMs, on: loop)
            }.flatMapThrowing { [self] reply in
                // Only a leader serves a forwarded call: remember it for a partition not hosted here.
                if replicas[partition] == nil { leaders.set(leader, for: partition) }
                return try Response.decodeRPC(from: ByteBuffer(bytes: reply.payload))
            }
        } else {
            future = loop.makeFailedFuture(RPCError(.notLeader, "no leader known for \(partition)", retryAfterMs: 50))
        }
        return future.hop(to: loop).flatMapError { [self] error in
            if leader != node { metrics.increment(.forwardedCallsFailed) }
            learn(from: error, partition: partition, target: leader)
            var refusalDeadline = refusalDeadline
            if let refusal = error as? GuardRefusal {
                if replicas[partition] != nil, contact.hears(leader, self: node, withinMs: contactWindowMs / 5) {
                    // The leader is heard (it heartbeats this node every tick, and did within
                    // the last few: a leader that just died is silent from its death, while its
                    // breaker opens some calls later): it is up and leading, only this node's
                    // calls to it fail. No other leader is coming; the client may reach this
                    // one directly.
                    metrics.increment(.callsGivenUp)
                    return loop.makeFailedFuture(redirect(to: leader, partition: partition, because: refusal.error))
                }
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
            let nextRefusalDeadline = refusalDeadline
            // Counted before the check, so that a shutdown that finds no retry waiting finds
            // none scheduled after it either.
            retries.wrappingIncrement(ordering: .sequentiallyConsistent)
            guard !shuttingDown(caller) else {
                retries.wrappingDecrement(ordering: .sequentiallyConsistent)
                return loop.makeFailedFuture(shutdownError)
            }
            let retried = loop.flatScheduleTask(in: .milliseconds(Self.retryPauseMs)) {
                self.attempt(method, partition: partition, request, caller: caller, on: loop, deadline: deadline,
                             leaderlessDeadline: leaderlessDeadline, refusalDeadline: nextRefusalDeadline,
                             tries: tries + 1, local: local)
            }.futureResult
            retried.whenComplete { [retries] _ in retries.wrappingDecrement(ordering: .sequentiallyConsistent) }
            return retried
        }
    }

    private var shutdownError: RPCError { RPCError(.unavailable, "node \(node) is shutting down", retryAfterMs: 100) }

    /// A `notLeader` answer names the leader this node believes in, so a client can go there.
    private func withLeaderHint(_ error: any Error, partition: PartitionID) -> any Error {
        guard var rpc = error as? RPCError, rpc.code == .notLeader, rpc.leaderHint == nil else { return error }
        rpc.leaderHint = hint(naming: leaders.leader(of: partition))
        return rpc
    }

    /// Another replica of `partition` for a client to go to with what only a replica serves (a
    /// watch, a local read): its leader when this node knows it, else its first replica other
    /// than this node.
    func replicaHint(for partition: PartitionID) -> LeaderHint? {
        let candidates = placement.replicas(of: partition).filter { $0 != node }
        let known = leaders.leader(of: partition)
        return hint(naming: candidates.contains(known) ? known : (candidates.first ?? .none))
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
