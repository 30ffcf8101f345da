import CartTypes

/// The tunables of one Raft node. Every limit carries its unit in its name.
public struct RaftOptions: Sendable, Hashable {
    /// This node's id; must be one of the configured voters.
    public var id: NodeID
    /// Ticks a follower waits without hearing from a leader before campaigning. The actual
    /// timeout is drawn uniformly from [electionTimeoutTicks, 2 × electionTimeoutTicks) so
    /// split votes resolve (§5.2).
    public var electionTimeoutTicks: Int = 10
    /// Ticks between leader heartbeats; must be well below `electionTimeoutTicks`.
    public var heartbeatIntervalTicks: Int = 1
    /// Most entries in one append message.
    public var entriesPerAppendMax: Int = 64
    /// Most entry bytes in one append message (at least one entry is always sent).
    public var appendBytesMax: Int = 1 << 20
    /// Appends in flight to one follower in replicate state before the leader waits for
    /// acknowledgements (pipelining window).
    public var inflightAppendsMax: Int = 16
    /// Most bytes of committed entries handed out in one Ready.
    public var applyBytesMax: Int = 4 << 20
    /// Largest single proposal.
    public var proposalBytesMax: Int = 1 << 20
    /// Proposals are dropped once the leader's not-yet-committed entries exceed this.
    public var uncommittedBytesMax: Int = 16 << 20
    /// ReadIndex requests waiting for a heartbeat round (or for the leader's first commit).
    public var readIndexPendingMax: Int = 1024
    /// Pre-vote (thesis §9.6): a node campaigns only after a majority would vote for it.
    public var preVote: Bool = true
    /// Check-quorum (thesis §6.2): a leader that has not heard from a majority within an
    /// election timeout steps down, and followers ignore votes while they have a leader.
    public var checkQuorum: Bool = true
    /// The last index the state machine has applied on start (0: the snapshot's index).
    public var appliedIndex: LogIndex = .zero
    /// The leader writes its new entries to its own disk and sends them to its followers at
    /// the same time (Raft thesis §10.2.1): its appends and commit notices may leave before
    /// the Ready that carries them is durable (`Ready.messagesBeforeDurable`), and the leader
    /// counts itself in the commit quorum only for entries the caller reports durable with
    /// `persisted(through:term:)`. A write then waits for the slower of two syncs, the
    /// leader's and its fastest follower's, instead of for one after the other.
    ///
    /// Off, the leader counts its entries as soon as they are appended, so everything it
    /// sends must wait for its own sync, and the caller need not report anything.
    public var leaderSendsBeforeDurable: Bool = false

    public init(id: NodeID) {
        self.id = id
    }

    func validated() -> RaftOptions {
        precondition(id != .none, "RaftOptions.id must not be NodeID.none")
        precondition(heartbeatIntervalTicks > 0, "heartbeatIntervalTicks must be positive")
        precondition(electionTimeoutTicks > heartbeatIntervalTicks,
                     "electionTimeoutTicks must exceed heartbeatIntervalTicks")
        precondition(entriesPerAppendMax > 0 && appendBytesMax > 0 && inflightAppendsMax > 0,
                     "append limits must be positive")
        precondition(applyBytesMax > 0 && proposalBytesMax > 0 && uncommittedBytesMax > 0,
                     "byte limits must be positive")
        precondition(readIndexPendingMax > 0, "readIndexPendingMax must be positive")
        return self
    }
}
