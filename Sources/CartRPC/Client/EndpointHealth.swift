import NIOConcurrencyHelpers
import NIOCore

/// Whether an `RPCClient`'s endpoint answered lately: marked unreachable when a connect
/// attempt fails, the stall watch or the keepalive gives a connection up as hung, or an open
/// connection breaks without a go-away (the server crashed); reachable again when a
/// connection completes its hello. Callers that can go elsewhere (a cluster client) read it
/// to leave such an endpoint alone for a while instead of each paying a connect timeout.
final class EndpointHealth: Sendable {
    private struct State {
        var since: NIODeadline?
        /// The `since` of the last hold whose end started a probe (`beginProbe`).
        var probedHold: NIODeadline?
    }

    private let state = NIOLockedValueBox(State())

    /// When the endpoint was last found unreachable, if it has not answered since.
    var unreachableSince: NIODeadline? { state.withLockedValue { $0.since } }

    func markUnreachable() { state.withLockedValue { $0.since = .now() } }

    func markReachable() { state.withLockedValue { $0.since = nil } }

    enum Hold {
        /// Not found unreachable since it last answered.
        case none
        case held
        /// Held, and the hold is over: the caller starts the one connection attempt (the probe)
        /// that finds out whether the endpoint answers again. Said once per hold.
        case heldProbeNow
    }

    /// Whether the endpoint is left alone: found unreachable within the last `holdMs`, or
    /// before that and silent since.
    func hold(holdMs: Int64) -> Hold {
        state.withLockedValue { state in
            guard let since = state.since else { return .none }
            guard NIODeadline.now() >= since + .milliseconds(holdMs), state.probedHold != since else { return .held }
            state.probedHold = since
            return .heldProbeNow
        }
    }
}
