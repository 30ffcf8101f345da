import Atomics
import CartTypes
import NIOCore

/// When this node last heard from each peer: the arrival of a Raft batch from it.
///
/// A leader sends a heartbeat to every follower of its partitions each tick, and followers and
/// candidates answer, so a peer that shares a partition with this node and can reach it is
/// heard from many times a second. Silence for longer than a few election timeouts means the
/// path between the two is cut (or the peer is down or frozen), whatever state the TCP
/// connection is in. The `Router` uses it to stop waiting on what cannot happen: a leader it
/// cannot hear, or an election without a majority it can reach.
final class PeerContact: Sendable {
    /// Uptime nanoseconds of the last batch from each peer; a node starts as if it had just
    /// heard from everyone, so it gives a peer a full window before calling it silent.
    private let heardAt: [NodeID: ManagedAtomic<Int64>]

    init(peers: [NodeID]) {
        let now = Int64(NIODeadline.now().uptimeNanoseconds)
        heardAt = Dictionary(uniqueKeysWithValues: peers.map { ($0, ManagedAtomic(now)) })
    }

    func heard(from peer: NodeID) {
        heardAt[peer]?.store(Int64(NIODeadline.now().uptimeNanoseconds), ordering: .relaxed)
    }

    /// Whether `peer` was heard from less than `windowMs` ago (this node itself always is).
    func hears(_ peer: NodeID, self node: NodeID, withinMs windowMs: Int64, now: NIODeadline = .now()) -> Bool {
        guard peer != node else { return true }
        guard let at = heardAt[peer] else { return false }
        return Int64(now.uptimeNanoseconds) - at.load(ordering: .relaxed) < windowMs * 1_000_000
    }

    /// Whether this node hears from a majority of `replicas` (itself counted when among them).
    func hearsMajority(of replicas: [NodeID], self node: NodeID, withinMs windowMs: Int64, now: NIODeadline = .now()) -> Bool {
        let heard = replicas.filter { hears($0, self: node, withinMs: windowMs, now: now) }.count
        return 2 * heard > replicas.count
    }
}
