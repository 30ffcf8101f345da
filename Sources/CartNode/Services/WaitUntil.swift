/// Waits until `done()` holds, checking every 10 ms, at most `limitMs`; false if it still
/// does not. For the shutdown's waits on work that ends on its own (sagas, routed retries).
func waitUntil(limitMs: Int64, _ done: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(limitMs)
    while !done() {
        guard ContinuousClock.now < deadline else { return false }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return true
}
