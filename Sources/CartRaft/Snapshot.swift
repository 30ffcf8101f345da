import CartTypes

/// Where a snapshot sits in the log and which configuration was in force there (§7).
public struct SnapshotMetadata: Hashable, Codable, Sendable {
    public var index: LogIndex
    public var term: Term
    public var configuration: Configuration

    public init(index: LogIndex, term: Term, configuration: Configuration) {
        self.index = index
        self.term = term
        self.configuration = configuration
    }

    enum CodingKeys: Int, CodingKey {
        case index = 1
        case term = 2
        case configuration = 3
    }
}

/// The state machine's state after applying every entry up to `metadata.index`; replaces
/// that prefix of the log. `data` is opaque to Raft.
public struct Snapshot: Hashable, Codable, Sendable {
    public var metadata: SnapshotMetadata
    public var data: [UInt8]

    public init(metadata: SnapshotMetadata, data: [UInt8]) {
        self.metadata = metadata
        self.data = data
    }

    public var isEmpty: Bool { metadata.index == .zero }

    enum CodingKeys: Int, CodingKey {
        case metadata = 1
        case data = 2
    }
}

/// The answer to a `readIndex(context:)` call: once the state machine has applied
/// `index`, a read of it is linearizable (thesis §6.4). `context` identifies the request.
public struct ReadState: Hashable, Codable, Sendable {
    public var index: LogIndex
    public var context: [UInt8]

    public init(index: LogIndex, context: [UInt8]) {
        self.index = index
        self.context = context
    }

    enum CodingKeys: Int, CodingKey {
        case index = 1
        case context = 2
    }
}
