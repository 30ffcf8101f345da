/// When appended bytes are forced to the disk before an append is reported durable.
public enum SyncPolicy: Sendable, Hashable {
    /// The default and the only safe choice: every group-commit batch ends with
    /// `fdatasync` on the segment (segments are preallocated, so the data sync also covers
    /// the extent metadata needed to read the data back), and every new segment, rename or
    /// truncation is followed by `fsync` of the file and its directory.
    case fsyncPerBatch
    /// UNSAFE, benchmarks only: no `fdatasync`/`fsync` at all. Appends are reported
    /// "durable" as soon as they are in the page cache, so a power loss or kernel crash loses
    /// acknowledged writes. Use it to measure the cost of everything except the sync.
    case none
}
