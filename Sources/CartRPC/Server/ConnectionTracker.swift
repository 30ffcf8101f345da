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

    /// Adds a connection; returns its id and whether it is beyond `connectionsMax`.
    func admit(_ entry: Entry, connectionsMax: Int) -> (id: Int, isOverLimit: Bool) {
        state.withLockedValue { state in
            let id = state.nextID
            state.nextID += 1
            state.open[id] = entry
            return (id, state.open.count > connectionsMax)
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
        let entries = state.withLockedValue { Array($0.open.values) }
        for entry in entries { entry.drain() }
        state.withLockedValue { $0.isDraining = true }
        return entries.map(\.channel)
    }
}
