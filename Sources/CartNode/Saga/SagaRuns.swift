import NIOConcurrencyHelpers

/// The saga runs of this node: tasks that must end with it.
///
/// A checkout saga runs as a task of its own (it outlives the client call that started it,
/// and the sweep starts others), and retries its steps on the node's event loops for up to
/// `sagaStepRetryWindowMs`. A step sent to a loop after the node has stopped its threads is
/// never run and never answered. So the node's shutdown cancels every run first (a cancelled
/// saga proposes nothing more: its checkout stays as far as the log has it, and the cart
/// partition's next leader resumes it, Saga.md) and waits for them to end before it stops its
/// threads. A run asked for once the node is stopping is refused.
final class SagaRuns: Sendable {
    private struct State {
        var stopping = false
        var nextID: UInt64 = 0
        var running: [UInt64: Task<Void, Never>] = [:]
    }

    private let state = NIOLockedValueBox(State())

    /// Runs `body` as a task, unless the node is stopping: then runs nothing and returns false.
    @discardableResult
    func run(_ body: @escaping @Sendable () async -> Void) -> Bool {
        state.withLockedValue { state in
            guard !state.stopping else { return false }
            let id = state.nextID
            state.nextID += 1
            // Stored under the lock the task takes to remove itself, so it is stored first.
            state.running[id] = Task { [self] in
                await body()
                self.state.withLockedValue { _ = $0.running.removeValue(forKey: id) }
            }
            return true
        }
    }

    /// Refuses new runs and cancels the running ones.
    func cancelAll() {
        let running = state.withLockedValue { state in
            state.stopping = true
            return Array(state.running.values)
        }
        for task in running { task.cancel() }
    }

    /// Waits until no run is left, for at most `limitMs`; whether none is left.
    func waitForAll(limitMs: Int64) async -> Bool {
        await waitUntil(limitMs: limitMs) { count == 0 }
    }

    /// Runs not yet ended.
    var count: Int { state.withLockedValue { $0.running.count } }
}
