import CartTypes

/// The kinds of message Raft nodes exchange. Raw values are stable wire codes.
public enum MessageKind: UInt8, Hashable, Codable, Sendable, CustomStringConvertible {
    /// AppendEntries (§5.3): `index`/`logTerm` name the entry preceding `entries`.
    case append = 1
    /// Reply to `append` or `snapshot`. Accepted: `index` is the follower's last matching
    /// index. Rejected: `rejectHint`/`logTerm` let the leader skip a whole term (§5.3 end).
    case appendResponse = 2
    /// RequestVote (§5.2): `index`/`logTerm` describe the candidate's last entry.
    case requestVote = 3
    case requestVoteResponse = 4
    /// A pre-vote (thesis §9.6): asks whether the receiver would vote in term `term`
    /// without anyone changing their term.
    case requestPreVote = 5
    case requestPreVoteResponse = 6
    /// Leader heartbeat: carries a safe commit index and, for ReadIndex rounds, `context`.
    case heartbeat = 7
    case heartbeatResponse = 8
    /// InstallSnapshot (§7): the whole snapshot in one message.
    case snapshot = 9
    /// A follower forwarding a ReadIndex request to the leader (thesis §6.4).
    case readIndex = 10
    case readIndexResponse = 11
    /// Tells the receiver to start an election at once (thesis §3.10).
    case timeoutNow = 12
    /// An append without entries that only tells a follower the commit index, and needs no
    /// answer: `index`/`logTerm` name the last entry the leader sent it, and the follower
    /// commits up to `min(commit, index)` if its log holds that entry. Sent instead of an
    /// empty `append` to a follower whose replication is streaming (a third of all Raft
    /// messages under load were such appends and their answers).
    case commitNotice = 13

    public var description: String {
        switch self {
        case .append: "append"
        case .appendResponse: "appendResponse"
        case .requestVote: "requestVote"
        case .requestVoteResponse: "requestVoteResponse"
        case .requestPreVote: "requestPreVote"
        case .requestPreVoteResponse: "requestPreVoteResponse"
        case .heartbeat: "heartbeat"
        case .heartbeatResponse: "heartbeatResponse"
        case .snapshot: "snapshot"
        case .readIndex: "readIndex"
        case .readIndexResponse: "readIndexResponse"
        case .timeoutNow: "timeoutNow"
        case .commitNotice: "commitNotice"
        }
    }

    var isVoteRequest: Bool { self == .requestVote || self == .requestPreVote }

    /// Whether a message of this kind may leave before the writes of the Ready it belongs to
    /// are durable: heartbeats, their answers and ReadIndex traffic say nothing about the
    /// sender's log or vote (a heartbeat's commit index never passes what the follower
    /// acknowledged as durable), so a crash that loses those writes cannot make them false.
    /// Nor do pre-votes and their answers: a pre-vote changes no one's term or vote, and
    /// counts for nothing but the decision to start a real election, whose votes wait for
    /// the disk. A pre-vote judged against entries not yet durable grants only to a log at
    /// least as up to date as the durable one. So a node whose disk stalls with a write
    /// unsynced still helps its partition find out that an election can be won.
    /// Appends, snapshots, votes and every answer to them wait (as in etcd raft, whose
    /// asynchronous storage writes hold back only append and vote answers; here a leader's
    /// own appends also wait, unless `RaftOptions.leaderSendsBeforeDurable`: see
    /// `RaftNode.maySendBeforeDurable(_:)`).
    public var maySendBeforeDurable: Bool {
        switch self {
        case .heartbeat, .heartbeatResponse, .readIndex, .readIndexResponse, .requestPreVote, .requestPreVoteResponse: true
        default: false
        }
    }

    var responseToVoteRequest: MessageKind {
        self == .requestVote ? .requestVoteResponse : .requestPreVoteResponse
    }
}

/// One Raft message. A single flat shape for every kind (as etcd's `raftpb.Message`), so
/// the wire encodes one struct; fields a kind does not use stay at their zero value.
public struct Message: Hashable, Codable, Sendable, CustomStringConvertible {
    public var kind: MessageKind
    public var from: NodeID
    public var to: NodeID
    public var term: Term
    public var logTerm: Term = .zero
    public var index: LogIndex = .zero
    public var entries: [Entry] = []
    public var commit: LogIndex = .zero
    public var snapshot: Snapshot? = nil
    public var reject: Bool = false
    public var rejectHint: LogIndex = .zero
    public var context: [UInt8] = []
    /// Set on votes of an election started by leadership transfer: voters then ignore
    /// their leader lease (thesis §3.10 with §4.2.3).
    public var leadershipTransfer: Bool = false

    public init(kind: MessageKind, from: NodeID, to: NodeID, term: Term) {
        self.kind = kind
        self.from = from
        self.to = to
        self.term = term
    }

    public var description: String {
        var text = "\(kind) \(from)->\(to) \(term) idx=\(index.rawValue) logTerm=\(logTerm.rawValue)"
        if !entries.isEmpty { text += " entries=\(entries.first!.index.rawValue)...\(entries.last!.index.rawValue)" }
        if commit != .zero { text += " commit=\(commit.rawValue)" }
        if reject { text += " reject hint=\(rejectHint.rawValue)" }
        if let snapshot { text += " snapshot@\(snapshot.metadata.index.rawValue)" }
        return text
    }

    enum CodingKeys: Int, CodingKey {
        case kind = 1
        case from = 2
        case to = 3
        case term = 4
        case logTerm = 5
        case index = 6
        case entries = 7
        case commit = 8
        case snapshot = 9
        case reject = 10
        case rejectHint = 11
        case context = 12
        case leadershipTransfer = 13
    }
}
