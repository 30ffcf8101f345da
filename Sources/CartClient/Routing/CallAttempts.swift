import CartGateway

/// Where one operation's attempts stand: its deadline, the nodes that could not serve it (tried
/// last), a leader named by a redirect (tried next) and the number of the current attempt.
struct CallAttempts: Sendable {
    let deadline: MonotonicInstant
    var avoiding = Set<Endpoint>()
    var redirect: Endpoint?
    var number = 1
}
