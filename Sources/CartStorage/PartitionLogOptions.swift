/// What to do when recovery finds corruption before the tail of the log.
public enum RecoveryMode: Sendable, Hashable {
    /// Refuse to open with `StorageError.corruptRecord(file:offset:reason:)`. The default:
    /// acknowledged data is damaged and an operator should look before anything is thrown away.
    case strict
    /// Cut the log at the first damaged record (and drop every later segment), logging what
    /// was cut. Raft then re-fetches the missing suffix from the leader.
    case truncateAtCorruption
}

/// Limits and policies of one partition log. Every limit carries its unit.
public struct PartitionLogOptions: Sendable, Hashable {
    /// Size at which a segment is sealed and a new one started; also what each segment preallocates.
    public var segmentBytesMax: Int = 64 * 1024 * 1024
    /// Largest payload of one entry; longer appends fail with `entryTooLarge`.
    public var payloadBytesMax: Int = 1024 * 1024
    public var syncPolicy: SyncPolicy = .fsyncPerBatch
    public var recoveryMode: RecoveryMode = .strict
    /// Snapshots kept on disk; older ones are deleted after each save.
    public var snapshotsRetainedCount: Int = 2
    /// Largest snapshot accepted on save and on load (checked before allocating).
    public var snapshotBytesMax: Int = 1024 * 1024 * 1024

    public init(segmentBytesMax: Int = 64 * 1024 * 1024, payloadBytesMax: Int = 1024 * 1024,
                syncPolicy: SyncPolicy = .fsyncPerBatch, recoveryMode: RecoveryMode = .strict) {
        self.segmentBytesMax = segmentBytesMax
        self.payloadBytesMax = payloadBytesMax
        self.syncPolicy = syncPolicy
        self.recoveryMode = recoveryMode
    }

    func validate() {
        precondition(RecordFormat.recordBytes(payloadBytes: payloadBytesMax) <= segmentBytesMax,
                     "payloadBytesMax must fit in one segment")
        precondition(segmentBytesMax <= Int(UInt32.max), "segment offsets are 32-bit in the record format")
    }
}
