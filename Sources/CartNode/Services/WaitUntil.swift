/// Waits until `done()` holds, checking every `everyMs`, at most `limitMs`; false if it still
/// does not. For the shutdown's waits on work that ends on its own (hand-overs, sagas, routed
/// retries).
func waitUntil(limitMs: Int64, everyMs: Int64 = 10, _ done: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(limitMs)
    while !done() {
        guard ContinuousClock.now < deadline else { return false }
        try? await Task.sleep(for: .milliseconds(everyMs))
    }
    return true
}
