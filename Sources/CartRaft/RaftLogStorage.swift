import CartTypes

/// What a node finds on stable storage when it starts.
public struct RaftInitialState: Hashable, Sendable {
    public var hardState: HardState
    public var configuration: Configuration

    public init(hardState: HardState, configuration: Configuration) {
        self.hardState = hardState
        self.configuration = configuration
    }
}

/// Read access to the stable part of the log. The core never writes through this protocol:
/// the caller persists what a `Ready` asks for, then calls `advance`, and only then does
/// the core read those entries back from here.
///
/// Indexes: the storage holds a snapshot covering `1...firstIndex-1` (possibly empty) and
/// entries `firstIndex...lastIndex`. `term(at: firstIndex - 1)` is the snapshot's term.
/// Errors other than `RaftStorageError` are treated as fatal IO failures.
public protocol RaftLogStorage: AnyObject {
    func initialState() throws -> RaftInitialState
    /// Entries in `range`, stopping early (but after at least one entry) once their total
    /// `sizeBytes` would exceed `bytesMax`. Throws `.compacted` if the range starts below
    /// `firstIndex()`.
    func entries(_ range: Range<LogIndex>, bytesMax: Int) throws -> [Entry]
    func term(at index: LogIndex) throws -> Term
    func firstIndex() throws -> LogIndex
    func lastIndex() throws -> LogIndex
    func snapshot() throws -> Snapshot
}
