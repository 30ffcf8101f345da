import CartWire
import NIOCore

/// Unary calls' timeouts with one timer per connection instead of one per call: the timer is
/// armed for the earliest deadline of the calls in progress; when it fires, the calls past
/// their deadline fail and it is armed for the next earliest. Answers usually come long
/// before the deadline, so the timer fires rarely, and a call no longer schedules and cancels
/// a timer of its own (a few per cent of a busy client's CPU).
extension ClientConnectionHandler {
    /// Makes sure the timer fires no later than `deadline`.
    func armDeadlineTimer(for deadline: NIODeadline) {
        if let armed = deadlineTimerAt, armed <= deadline { return }
        guard let bound = loopBound, phase != .closed else { return }
        deadlineTimer?.cancel()
        deadlineTimerAt = deadline
        deadlineTimer = bound.eventLoop.scheduleTask(deadline: deadline) { bound.value.deadlineTimerFired() }
    }

    /// Fails the calls past their deadline and arms the timer for the rest.
    func deadlineTimerFired() {
        deadlineTimer = nil
        deadlineTimerAt = nil
        let now = NIODeadline.now()
        var expired: [StreamID] = []
        var next: NIODeadline?
        for (stream, call) in pending {
            guard case .unary(_, _, let deadline?) = call else { continue }
            if deadline <= now {
                expired.append(stream)
            } else {
                next = min(next ?? deadline, deadline)
            }
        }
        for stream in expired { timedOut(stream) }
        if let next { armDeadlineTimer(for: next) }
    }
}
