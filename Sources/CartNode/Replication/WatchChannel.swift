import CartAPI
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
final class WatchChannel: Sendable {
    enum Next: Sendable {
        case events([WatchItem])
        case overflowed
        case closed
        /// The reader was unshared from the cart: the events up to that one were delivered.
        case accessRevoked
    }

    private struct State {
        var buffer: [WatchItem] = []
        var overflowed = false
        var closed = false
        var revoked = false
        var waiter: CheckedContinuation<Next, Never>?
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

    /// Called by the replica for each applied event of the watched cart.
    func offer(_ item: WatchItem) {
        let waiter: CheckedContinuation<Next, Never>? = state.withLockedValue { state in
            guard !state.closed, !state.overflowed, !state.revoked else { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            if state.buffer.count >= eventsMax {
                state.overflowed = true
                state.buffer.removeAll()
            } else {
                state.buffer.append(item)
            }
            return nil
        }
        waiter?.resume(returning: .events([item]))
    }

    /// The replica restored a snapshot: what was buffered may no longer follow on.
    func markOverflowed() {
        let waiter: CheckedContinuation<Next, Never>? = state.withLockedValue { state in
            state.overflowed = true
            state.buffer.removeAll()
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: .overflowed)
    }

    /// Clears the overflow after the consumer re-read history (called on the replica's loop).
    func rearm() {
        state.withLockedValue { state in
            state.overflowed = false
            state.buffer.removeAll()
        }
    }

    /// The reader lost access (called on the replica's loop right after offering the event
    /// that revoked it): the consumer gets what is buffered, then `.accessRevoked`.
    func revoke() {
        let waiter: CheckedContinuation<Next, Never>? = state.withLockedValue { state in
            state.revoked = true
            guard state.buffer.isEmpty else { return nil }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: .accessRevoked)
    }

    func close() {
        let waiter: CheckedContinuation<Next, Never>? = state.withLockedValue { state in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: .closed)
    }

    /// Everything waiting, or the overflow, or (once closed) `.closed`; suspends while empty.
    func next() async -> Next {
        await withCheckedContinuation { continuation in
            let immediate: Next? = state.withLockedValue { state in
                if state.closed { return .closed }
                if state.overflowed { return state.revoked ? .accessRevoked : .overflowed }
                if !state.buffer.isEmpty {
                    defer { state.buffer.removeAll(keepingCapacity: true) }
                    return .events(state.buffer)
                }
                if state.revoked { return .accessRevoked }
                state.waiter = continuation
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
    }
}
