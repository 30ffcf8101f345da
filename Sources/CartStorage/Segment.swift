import CartTypes

/// One preallocated segment file of a partition log, named by its sequence number
/// (`00000000000000000007.seg`). Records are appended at `writeOffset` until the next one
/// would pass `capacityBytes`; then the log seals it and rolls to a new segment.
///
/// Not thread-safe on its own: `PartitionLog` mutates segments only under its lock.
final class Segment {
    static let fileExtension = "seg"

    let sequence: UInt64
    let file: PosixFile
    let capacityBytes: Int
    /// Bytes holding records; everything after is preallocated zeros.
    var writeOffset: Int

    var path: String { file.path }
    var fileName: String { Self.fileName(sequence: sequence) }

    private init(sequence: UInt64, file: PosixFile, capacityBytes: Int, writeOffset: Int) {
        self.sequence = sequence
        self.file = file
        self.capacityBytes = capacityBytes
        self.writeOffset = writeOffset
    }

    static func fileName(sequence: UInt64) -> String {
        let digits = String(sequence)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + "." + fileExtension
    }

    /// The sequence number in a segment file name, or nil for other files.
    static func sequence(ofFileName name: String) -> UInt64? {
        guard name.hasSuffix("." + fileExtension), name.count == 20 + 1 + fileExtension.count else { return nil }
        return UInt64(name.prefix(20))
    }

    /// Creates, preallocates and syncs a new empty segment, then syncs the directory so the
    /// file's existence survives a crash before the first record is acknowledged.
    static func create(directory: String, sequence: UInt64, capacityBytes: Int, policy: SyncPolicy) throws -> Segment {
        let file = try PosixFile.open(directory + "/" + fileName(sequence: sequence), create: true, exclusive: true)
        try file.preallocate(bytes: capacityBytes)
        if policy == .fsyncPerBatch {
            try file.fullSync()
            try PosixFile.syncDirectory(directory)
        }
        return Segment(sequence: sequence, file: file, capacityBytes: capacityBytes, writeOffset: 0)
    }

    /// Opens an existing segment; recovery sets `writeOffset` after scanning it.
    static func open(directory: String, sequence: UInt64, capacityBytes: Int) throws -> Segment {
        let file = try PosixFile.open(directory + "/" + fileName(sequence: sequence), create: false)
        return Segment(sequence: sequence, file: file, capacityBytes: capacityBytes, writeOffset: 0)
    }

    /// Cuts everything from `offset` on (a torn tail, or a suffix truncation), makes the cut
    /// durable, and preallocates again so later appends never grow the file.
    func cut(at offset: Int, policy: SyncPolicy) throws {
        try file.truncate(toBytes: offset)
        if policy == .fsyncPerBatch { try file.fullSync() }
        try file.preallocate(bytes: max(capacityBytes, offset))
        if policy == .fsyncPerBatch { try file.fullSync() }
        writeOffset = offset
    }

    func remainingBytes() -> Int { capacityBytes - writeOffset }
}
