import CartTypes

/// One member of a Raft group: a pure state machine in the style of etcd-io/raft's
/// `RawNode`. It has no clock, no IO, no threads: time arrives as `tick()`, the network as
/// `step(_:)`, clients as `propose(_:)` / `readIndex(context:)`, and everything the node
/// wants done comes back as a `Ready`.
///
/// The caller's contract, for each `Ready` (while `hasReady`):
///
/// 1. Take it: `let ready = node.ready()`. Only one Ready may be outstanding.
/// 2. Persist, in this order: `ready.snapshot` (if any), then `ready.entries` (replacing
///    any stored suffix they overlap), then `ready.hardState` (if any). If
///    `ready.mustSync`, make it durable (fsync) before going on. A vote, or an answer
///    counting entries as stored, that reaches another node before the write behind it is
///    durable can break safety after a crash.
///    `ready.messagesBeforeDurable` may (and should) be sent at once, before the writes;
///    with `RaftOptions.leaderSendsBeforeDurable` the leader's appends are among them, and
///    the caller reports each Ready's entries durable, in order, with
///    `persisted(through:term:)` (the leader counts itself in the commit quorum only then).
/// 3. Send `ready.messages`. Delivery may fail, repeat or reorder; Raft copes. Report
///    peers that could not be reached with `reportUnreachable(_:)` and the outcome of a
///    snapshot message with `reportSnapshot(to:succeeded:)`. Heartbeats, pre-votes, their answers
///    and ReadIndex messages need no durable write: `takeMessagesSendableBeforeDurable()`
///    hands them out at any time, before a Ready or while its writes are in flight.
/// 4. Apply: install `ready.snapshot` in the state machine (if any), then apply
///    `ready.committedEntries` in order (skipping entries with empty data, which are
///    leader no-ops). Answer `ready.readStates` once the state machine has applied
///    their index.
/// 5. Call `node.advance(ready)`. Only now does the node read those entries back from
///    storage and hand out the next batch. The caller may then snapshot the state machine
///    and compact the storage up to `appliedIndex`; the leader sends that snapshot to
///    followers that need compacted entries.
///
/// Proposals on a follower are rejected with `RaftError.notLeader(leaderHint:)` rather
/// than forwarded: the gateway above redirects the client, so retry and deduplication
/// live in one place and a proposal is never silently lost between two nodes.
/// ReadIndex requests on a follower, in contrast, are forwarded to the leader (they carry
/// no state and the answer returns as a `ReadState` on this node).
public final class RaftNode {
    let options: RaftOptions
    var random: any RandomNumberGenerator

    var term: Term = .zero
    var vote: NodeID = .none
    var role: Role = .follower
    var leader: NodeID = .none
    var configuration: Configuration
    var log: RaftLog

    /// The leader's replication state of every voter (itself included).
    var progress = ProgressTracker()
    /// Votes received in the current (pre-)election.
    var votes: [NodeID: Bool] = [:]

    var electionElapsedTicks = 0
    var heartbeatElapsedTicks = 0
    var randomizedElectionTimeoutTicks = 0

    /// The node leadership is being handed to, or `.none`.
    var transferee: NodeID = .none
    var readOnly = ReadOnly()
    /// ReadIndex requests that arrived before the leader committed an entry of its term:
    /// until then its commit index may lag the true one (thesis §6.4 step 1).
    var readsAwaitingFirstCommit: [(context: [UInt8], requester: NodeID)] = []
    /// Bytes of entries appended by this leader and not yet committed.
    var uncommittedBytes = 0
    /// The leader owes its followers an append: new proposals or a higher commit index.
    /// It is sent when the next Ready is taken, so every proposal and commit advance of
    /// one caller turn travels in one message per follower instead of one each.
    var appendsOwed = false

    var outbox: [Message] = []
    var readStates: [ReadState] = []
    var previousSoftState: SoftState
    var previousHardState: HardState
    var readyOutstanding = false

    /// Starts (or restarts) a node from what `storage` holds.
    public init(options: RaftOptions, storage: any RaftLogStorage,
                random: any RandomNumberGenerator) {
        self.options = options.validated()
        self.random = random
        let initial = RaftLog.fatalIfFailed { try storage.initialState() }
        configuration = initial.configuration
        log = RaftLog(storage: storage)
        previousSoftState = SoftState(leader: .none, role: .follower)
        previousHardState = initial.hardState
        term = initial.hardState.term
        vote = initial.hardState.vote
        if log.lastTerm > term {
            // A crash after the entries of a Ready reached the disk but before its hard
            // state did. No message of that Ready was sent, so no vote in the newer term
            // was promised; adopting the term restores "last log term ≤ current term".
            term = log.lastTerm
            vote = .none
        }
        // A commit index past the log's end cannot be trusted as a fact about this log: the
        // storage lost or cut entries it once counted (a crash between a truncation and the
        // sync of the entries that replace it). Entries past the end are not here to apply;
        // the leader sends them again, and its commit index with them.
        log.restoreCommitted(min(initial.hardState.commit, log.lastIndex))
        if options.appliedIndex > .zero { log.setApplied(options.appliedIndex) }
        becomeFollower(term: term, leader: .none)
        previousSoftState = softState
    }

    // MARK: Inspection

    public var id: NodeID { options.id }
    public var currentTerm: Term { term }
    public var currentRole: Role { role }
    public var leaderHint: NodeID { leader }
    public var commitIndex: LogIndex { log.committed }
    public var appliedIndex: LogIndex { log.applied }
    public var lastIndex: LogIndex { log.lastIndex }
    public var lastTerm: Term { log.lastTerm }
    public var members: Configuration { configuration }
    public var softState: SoftState { SoftState(leader: leader, role: role) }
    public var hardState: HardState { HardState(term: term, vote: vote, commit: log.committed) }
    public var leadershipTransferee: NodeID { transferee }

    /// The term of the entry at `index` in this node's log (stable or not), if present.
    public func term(at index: LogIndex) -> Term? { log.term(at: index) }

    /// Entries `range` of this node's log (stable or not); empty if compacted.
    public func logEntries(_ range: Range<LogIndex>) -> [Entry] {
        (try? log.entries(range, bytesMax: .max)) ?? []
    }

    /// The leader's match index for `node` (nil unless leader).
    public func matchIndex(of node: NodeID) -> LogIndex? {
        role == .leader ? progress[node]?.match : nil
    }

    /// Whether this leader has heard from `node` in the current check-quorum round (at most
    /// one election timeout); false unless leader. A node that stopped answering is not.
    public func hasHeardRecently(from node: NodeID) -> Bool {
        role == .leader && progress[node]?.recentActive == true
    }

    // MARK: Inputs

    /// Advances logical time by one tick.
    public func tick() {
        if role == .leader {
            tickLeader()
        } else {
            tickElection()
        }
    }

    /// Starts an election now, as if the election timeout had passed.
    public func campaign() {
        guard role != .leader else { return }
        startCampaign(transfer: false)
    }

    /// Forgets a follower's leader (etcd raft's `ForgetLeader`), for when something outside
    /// Raft knows the leader is gone: its process died, say, and the connections from it
    /// closed. The follower keeps its term and campaigns no sooner, but no longer holds
    /// the leader's lease against pre-votes and votes: once a majority of the group has
    /// forgotten the leader, the first of them to `campaign()` wins at once instead of after
    /// an election timeout. A message from a leader of its term makes the follower that
    /// leader's again, so forgetting a leader that is alive costs nothing more.
    public func forgetLeader() {
        guard role == .follower, leader != .none else { return }
        leader = .none
    }

    /// Feeds one message from a peer. Messages that fail validation are rejected with
    /// `RaftError.malformedMessage` and change nothing.
    public func step(_ message: Message) throws(RaftError) {
        try validate(message)
        handle(message)
    }

    /// Appends `data` to the log if this node is the leader. Returns where the entry will
    /// sit: it is committed once applied with this index and term.
    @discardableResult
    public func propose(_ data: [UInt8]) throws(RaftError) -> (index: LogIndex, term: Term) {
        guard role == .leader else { throw .notLeader(leaderHint: leader) }
        guard transferee == .none else { throw .transferInProgress }
        guard data.count <= options.proposalBytesMax else {
            throw .proposalTooLarge(bytes: data.count, bytesMax: options.proposalBytesMax)
        }
        let index = log.lastIndex.next
        guard appendAsLeader([Entry(term: term, index: index, data: data)]) else {
            throw .proposalDropped
        }
        appendsOwed = true
        return (index, term)
    }

    /// The peer `node` could not be reached: stop streaming to it and probe instead.
    public func reportUnreachable(_ node: NodeID) {
        guard role == .leader else { return }
        progress.update(node) { peer in
            if peer.state == .replicate { peer.becomeProbe() }
        }
    }

    /// The snapshot message to `node` was (or was not) delivered and installed.
    public func reportSnapshot(to node: NodeID, succeeded: Bool) {
        guard role == .leader else { return }
        progress.update(node) { peer in
            guard case .snapshot = peer.state else { return }
            if !succeeded {
                // Retry from scratch: a later probe will find out what the follower has.
                peer.state = .snapshot(pendingIndex: .zero)
            }
            peer.becomeProbe()
            // Wait for the follower's answer (or a heartbeat) before probing again.
            peer.probeSent = true
        }
    }
}
