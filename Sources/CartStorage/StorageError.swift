import CartTypes

/// Everything the storage layer reports to its callers. Corruption and IO failures carry
/// the file (and the byte offset where it matters) so an operator can find the damage.
public enum StorageError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A record before the tail of the log failed its checks; the log refuses to open
    /// (open with `RecoveryMode.truncateAtCorruption` to cut the log there).
    case corruptRecord(file: String, offset: Int, reason: String)
    /// A metadata file (hard state, compaction boundary) failed its checks.
    case corruptMetadata(file: String, reason: String)
    /// A snapshot file failed its checks.
    case corruptSnapshot(file: String, reason: String)
    /// The segments do not hold every entry between the compaction boundary and the tail.
    case missingEntries(file: String, expected: LogIndex, found: LogIndex)
    /// A system call failed.
    case io(operation: String, path: String, errno: Int32)
    /// `fdatasync`/`fsync` failed. The kernel may have dropped the dirty pages, so retrying
    /// could report lost data as durable; the log stops accepting writes.
    case syncFailed(path: String, errno: Int32)
    /// One entry does not fit the configured limit (or a segment).
    case entryTooLarge(payloadBytes: Int, payloadBytesMax: Int)
    /// An append did not continue the log at `lastIndex + 1`, or was not contiguous.
    case nonContiguousAppend(expected: LogIndex, got: LogIndex)
    /// An append's term is lower than the term of the entry before it (terms never decrease in a Raft log).
    case termRegression(index: LogIndex, term: Term, previousTerm: Term)
    /// The requested index is outside `firstIndex...lastIndex` (or below the compaction boundary).
    case indexOutOfRange(requested: LogIndex, firstIndex: LogIndex, lastIndex: LogIndex)
    /// The log was closed, or stopped after a sync failure.
    case closed

    /// A stable, machine-readable code for logs, metrics and tests.
    public var code: String {
        switch self {
        case .corruptRecord: "storage.corrupt_record"
        case .corruptMetadata: "storage.corrupt_metadata"
        case .corruptSnapshot: "storage.corrupt_snapshot"
        case .missingEntries: "storage.missing_entries"
        case .io: "storage.io"
        case .syncFailed: "storage.sync_failed"
        case .entryTooLarge: "storage.entry_too_large"
        case .nonContiguousAppend: "storage.non_contiguous_append"
        case .termRegression: "storage.term_regression"
        case .indexOutOfRange: "storage.index_out_of_range"
        case .closed: "storage.closed"
        }
    }

    public var description: String {
        switch self {
        case let .corruptRecord(file, offset, reason):
            "\(code): corrupt record in \(file) at byte offset \(offset): \(reason)"
        case let .corruptMetadata(file, reason): "\(code): \(file): \(reason)"
        case let .corruptSnapshot(file, reason): "\(code): \(file): \(reason)"
        case let .missingEntries(file, expected, found):
            "\(code): \(file) starts at \(found), expected \(expected)"
        case let .io(operation, path, errno): "\(code): \(operation) \(path) failed with errno \(errno)"
        case let .syncFailed(path, errno): "\(code): sync of \(path) failed with errno \(errno); log stopped"
        case let .entryTooLarge(bytes, max): "\(code): payload of \(bytes) bytes exceeds \(max)"
        case let .nonContiguousAppend(expected, got): "\(code): expected \(expected), got \(got)"
        case let .termRegression(index, term, previousTerm):
            "\(code): entry \(index) has term \(term) after \(previousTerm)"
        case let .indexOutOfRange(requested, first, last):
            "\(code): \(requested) is outside \(first)...\(last)"
        case .closed: "\(code): the log is closed"
        }
    }
}
