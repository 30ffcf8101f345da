import NIOConcurrencyHelpers
import NIOCore

/// Whether an `RPCClient`'s endpoint answered lately: marked unreachable when a connect
/// attempt fails or the stall watch gives a connection up as hung, reachable again when a
/// connection completes its hello. Callers that can go elsewhere (a cluster client) read it
/// to leave such an endpoint alone for a while instead of each paying a connect timeout.
final class EndpointHealth: Sendable {
    private let since = NIOLockedValueBox<NIODeadline?>(nil)

    /// When the endpoint was last found unreachable, if it has not answered since.
    var unreachableSince: NIODeadline? { since.withLockedValue { $0 } }

    func markUnreachable() { since.withLockedValue { $0 = .now() } }

    func markReachable() { since.withLockedValue { $0 = nil } }
}
