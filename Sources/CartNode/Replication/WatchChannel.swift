import CartAPI
import CartRPC
import CartTypes
import NIOConcurrencyHelpers

/// The bounded mailbox between a partition replica (which applies events on its event loop)
/// and one watch stream (which sends them to a client at the client's pace).
///
/// The replica never waits: `offer` appends or, when `eventsMax` events are already waiting,
/// drops the whole buffer and marks the channel overflowed. The consumer then re-reads the
/// cart's history from its last delivered seq (on the replica's loop, re-arming the channel
/// in the same step), so a slow watcher costs writers nothing and still misses nothing.
/// Live items carry their commit time; the replica builds each item once for all watchers.
///
/// While the consumer waits with nothing buffered and the stream keeps up, the replica sends
/// the next item itself (`DirectSend`) instead of waking the consumer's task to write it (two
/// thread hand-offs and a wake-up per item and watcher): written at once when the stream's
/// connection is on the replica's loop, else handed to the connection's loop in one hop.
/// Until that send is done the channel buffers what follows; an item that could not go
/// (no credit, a busy connection) wakes the consumer with it, as do the events buffered
/// meanwhile, an overflow, a revocation or a close.
final class WatchChannel: Sendable {
    enum Next: Sendable {
        case events([WatchItem])
        case overflowed
        case closed
        /// The reader was unshared from the cart: the events up to that one were delivered.
        case accessRevoked
    }

    /// The replica's way to send an item straight to the stream (`RPCStreamWriter.trySend`),
    /// given its encoding, made only if asked for; then `done` with whether it was sent, at
    /// once or from the connection's loop.
    typealias DirectSend = @Sendable (_ encoded: () -> RPCStreamWriter<WatchItem>.Encoded?,
                                      _ done: @escaping @Sendable (Bool) -> Void) -> Void

    private struct Waiting {
        let continuation: CheckedContinuation<(Next, Seq), Never>
        /// The seq the stream continues with; moves on with each item sent directly.
        var next: Seq
        let direct: DirectSend?
    }

    private struct State {
        var buffer: [WatchItem] = []
        var overflowed = false
        var closed = false
        /// The seq of the event that revoked the reader (its `CartUnshared`), once revoked.
        var revokedAt: Seq?
        var revoked: Bool { revokedAt != nil }
        var waiting: Waiting?
    }

    let eventsMax: Int
    /// The user the stream delivers to: access is checked when it (re)reads history, and the
    /// replica revokes it when that user is unshared from the cart.
    let reader: UserID
    private let state = NIOLockedValueBox(State())

    init(eventsMax: Int, reader: UserID) {
        self.eventsMax = eventsMax
        self.reader = reader
    }

    /// Called by the replica for each applied event of the watched cart. `encoded` gives the
    /// item's bytes, encoded once for all the cart's watchers, when one may send it directly.
    func offer(_ item: WatchItem, encoded: () -> RPCStreamWriter<WatchItem>.Encoded? = { nil }) {
        enum Step {
            case done
            case wake(Waiting)
            case sendDirectly(Waiting, DirectSend)
        }
        let step: Step = state.withLockedValue { state in
            guard !state.closed, !state.overflowed, !state.revoked else { return .done }
            if let waiting = state.waiting {
                state.waiting = nil
                if let direct = waiting.direct, item.event.seq == waiting.next {
                    // `waiting` stays taken out while sending: a `close` from another thread
                    // meanwhile only marks the channel, and the sender wakes the consumer.
                    return .sendDirectly(waiting, direct)
                }
                return .wake(waiting)
            }
            if state.buffer.count >= eventsMax {
                state.overflowed = true
                state.buffer.removeAll()
            } else {
                state.buffer.append(item)
            }
            return .done
        }
        switch step {
        case .done:
            return
        case .wake(let waiting):
            waiting.continuation.resume(returning: (.events([item]), waiting.next))
        case .sendDirectly(let waiting, let direct):
            // Outside the lock: the connection handler is not to be called holding it.
            direct(encoded) { [self] sent in sentDirectly(item, sent: sent, waiting: waiting) }
        }
    }

    /// A direct send is over. `waiting` was taken out of the state while it ran, so whatever
    /// happened meanwhile (events buffered, an overflow, a revocation, a close) only marked
    /// the state: it is handed to the consumer now, or the consumer goes back to waiting.
    private func sentDirectly(_ item: WatchItem, sent: Bool, waiting: Waiting) {
        var waiting = waiting
        if sent { waiting.next = item.event.seq.next }
        let woken: Next? = state.withLockedValue { state in
            if state.closed { return .closed }
            if state.overflowed { return state.revoked ? .accessRevoked : .overflowed }
            if !sent { state.buffer.insert(item, at: 0) }
            if !state.buffer.isEmpty {
                defer { state.buffer.removeAll(keepingCapacity: true) }
                return .events(state.buffer)
            }
            if state.revoked { return .accessRevoked }
            state.waiting = waiting
            return nil
        }
        if let woken { waiting.continuation.resume(returning: (woken, waiting.next)) }
    }

    /// The replica restored a snapshot: what was buffered may no longer follow on.
    func markOverflowed() {
        let wake = state.withLockedValue { state -> Waiting? in
            state.overflowed = true
            state.buffer.removeAll()
            defer { state.waiting = nil }
            return state.waiting
        }
        if let wake { wake.continuation.resume(returning: (.overflowed, wake.next)) }
    }

    /// Clears the overflow after the consumer re-read history (called on the replica's loop).
    func rearm() {
        state.withLockedValue { state in
            state.overflowed = false
            state.buffer.removeAll()
        }
    }

    /// The reader lost access (called on the replica's loop right after offering the event
    /// that revoked it, at seq `seq`): the consumer gets what is buffered, then
    /// `.accessRevoked`.
    func revoke(at seq: Seq) {
        let wake = state.withLockedValue { state -> Waiting? in
            state.revokedAt = seq
            guard state.buffer.isEmpty else { return nil }
            defer { state.waiting = nil }
            return state.waiting
        }
        if let wake { wake.continuation.resume(returning: (.accessRevoked, wake.next)) }
    }

    /// The seq of the event that revoked the reader, once revoked.
    var revokedAt: Seq? { state.withLockedValue { $0.revokedAt } }

    /// Whether the consumer waits for the replica (tests).
    var hasWaitingConsumer: Bool { state.withLockedValue { $0.waiting != nil } }

    func close() {
        let wake = state.withLockedValue { state -> Waiting? in
            state.closed = true
            defer { state.waiting = nil }
            return state.waiting
        }
        if let wake { wake.continuation.resume(returning: (.closed, wake.next)) }
    }

    /// Everything waiting, or the overflow, or (once closed) `.closed`; suspends while empty.
    /// `next` is the seq the stream continues with; while suspended, the replica may send
    /// items itself through `direct`. Returns what woke the consumer and the seq the stream
    /// continues with then (past the items sent directly).
    func next(continuingWith next: Seq, direct: DirectSend? = nil) async -> (Next, Seq) {
        await withCheckedContinuation { continuation in
            let immediate: Next? = state.withLockedValue { state in
                if state.closed { return .closed }
                if state.overflowed { return state.revoked ? .accessRevoked : .overflowed }
                if !state.buffer.isEmpty {
                    defer { state.buffer.removeAll(keepingCapacity: true) }
                    return .events(state.buffer)
                }
                if state.revoked { return .accessRevoked }
                state.waiting = Waiting(continuation: continuation, next: next, direct: direct)
                return nil
            }
            if let immediate { continuation.resume(returning: (immediate, next)) }
        }
    }
}
