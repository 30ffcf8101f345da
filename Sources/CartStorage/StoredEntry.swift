import CartTypes

/// One Raft log entry as the storage layer keeps it: position, term and opaque payload
/// (the encoded cart event or configuration change; storage never looks inside).
public struct StoredEntry: Sendable, Hashable {
    public var index: LogIndex
    public var term: Term
    public var payload: [UInt8]

    public init(index: LogIndex, term: Term, payload: [UInt8]) {
        self.index = index
        self.term = term
        self.payload = payload
    }
}
