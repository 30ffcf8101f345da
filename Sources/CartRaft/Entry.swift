import CartTypes

/// One record of the replicated log. `data` is opaque to Raft; an entry with empty `data`
/// is the no-op a new leader appends to commit entries of earlier terms (§5.4.2), and the
/// state machine must skip it.
public struct Entry: Hashable, Codable, Sendable {
    public var term: Term
    public var index: LogIndex
    public var data: [UInt8]

    public init(term: Term, index: LogIndex, data: [UInt8]) {
        self.term = term
        self.index = index
        self.data = data
    }

    /// The size an entry counts for against byte limits: the payload plus a fixed
    /// allowance for term and index, so that empty entries are not free.
    public var sizeBytes: Int { data.count + 16 }

    enum CodingKeys: Int, CodingKey {
        case term = 1
        case index = 2
        case data = 3
    }
}
