import NIOConcurrencyHelpers
import NIOCore

/// The server's open connections: their count (for `connectionsMax`) and how to ask each to
/// drain on shutdown.
final class ConnectionTracker: Sendable {
    struct Entry: Sendable {
        let channel: any Channel
        let drain: @Sendable () -> Void
    }

    private struct State {
        var nextID = 0
        var open: [Int: Entry] = [:]
        var isDraining = false
    }

    private let state = NIOLockedValueBox(State())

    /// Connections beyond `connectionsMax` kept open only to tell their hello why they are
    /// refused (`resourceExhausted`); past these, a connection is closed as soon as accepted.
    /// Before its hello a connection is unauthenticated, and each one holds TLS state and up
    /// to a hello's bytes until the handshake timeout.
    static let refusalsPendingMax = 64

    /// Adds a connection; returns its id, whether it is beyond `connectionsMax`, and whether
    /// it is refused outright, untracked (the caller closes it): when the server is already
    /// draining (the connection was accepted just before the listener closed, after
    /// `drainAll` looked, so it is closed as the drain would have), or when
    /// `refusalsPendingMax` connections beyond the limit already wait for their refusal.
    func admit(_ entry: Entry, connectionsMax: Int) -> (id: Int, isOverLimit: Bool, refused: Bool) {
        state.withLockedValue { state in
            let id = state.nextID
            state.nextID += 1
            guard !state.isDraining, state.open.count < connectionsMax + Self.refusalsPendingMax else { return (id, false, true) }
            state.open[id] = entry
            return (id, state.open.count > connectionsMax, false)
        }
    }

    func remove(_ id: Int) {
        _ = state.withLockedValue { $0.open.removeValue(forKey: id) }
    }

    var count: Int { state.withLockedValue { $0.open.count } }

    /// True once every connection open at shutdown has been asked to drain.
    var isDraining: Bool { state.withLockedValue { $0.isDraining } }

    /// Asks every open connection to drain; returns their channels to wait for.
    func drainAll() -> [any Channel] {
        // One step: a connection admitted later sees `isDraining` and is closed by its caller.
        let entries = state.withLockedValue { state -> [Entry] in
            state.isDraining = true
            return Array(state.open.values)
        }
        for entry in entries { entry.drain() }
        return entries.map(\.channel)
    }
}
