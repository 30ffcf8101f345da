import CartTypes

/// The leader's `Progress` for each voter. Groups have a handful of voters, so a linear
/// scan over a small array beats hashing a `NodeID` on every message.
struct ProgressTracker {
    private var nodes: [NodeID] = []
    private var progresses: [Progress] = []

    init() {}

    init(voters: [NodeID], _ makeProgress: (NodeID) -> Progress) {
        nodes = voters
        progresses = voters.map(makeProgress)
    }

    /// A copy of `node`'s progress. Mutate through `update(_:_:)`, which works in place:
    /// copying a progress out and back would copy its in-flight window on every message.
    subscript(_ node: NodeID) -> Progress? {
        nodes.firstIndex(of: node).map { progresses[$0] }
    }

    /// Runs `body` on `node`'s progress in place. Returns nil if `node` is not tracked.
    @discardableResult
    mutating func update<Result>(_ node: NodeID, _ body: (inout Progress) -> Result) -> Result? {
        guard let position = nodes.firstIndex(of: node) else { return nil }
        return body(&progresses[position])
    }
}
