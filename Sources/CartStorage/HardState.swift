import CartTypes

/// The Raft state that must survive a restart before a node answers a vote or an append
/// (§5.1, §5.2): the current term, whom this node voted for in it, and the commit index.
public struct HardState: Sendable, Hashable {
    public var term: Term
    public var vote: NodeID
    public var commit: LogIndex

    public init(term: Term = .zero, vote: NodeID = .none, commit: LogIndex = .zero) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }

    public static let initial = HardState()

    /// 24 bytes: term, vote, commit as little-endian UInt64.
    func encoded() -> [UInt8] {
        var bytes = [UInt8]()
        appendLittleEndian(term.rawValue, to: &bytes)
        appendLittleEndian(vote.rawValue, to: &bytes)
        appendLittleEndian(commit.rawValue, to: &bytes)
        return bytes
    }

    init(decoding bytes: [UInt8], path: String) throws {
        guard bytes.count == 24 else { throw StorageError.corruptMetadata(file: path, reason: "hard state of \(bytes.count) bytes") }
        self.init(term: Term(readLittleEndian(UInt64.self, bytes, 0)),
                  vote: NodeID(readLittleEndian(UInt64.self, bytes, 8)),
                  commit: LogIndex(readLittleEndian(UInt64.self, bytes, 16)))
    }
}
