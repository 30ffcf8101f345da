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
    /// Bytes from the start that are known to be written blocks (records, or zeros this
    /// segment wrote ahead of them). `fallocate` reserves *unwritten* extents: the first
    /// write into one converts it, and the next `fdatasync` must then also write the inode,
    /// a second synchronous I/O. Writing zeros ahead of the records in `zeroFillBytes`
    /// pieces pays that once per piece instead of on every sync.
    private(set) var writtenThrough = 0
    /// How far ahead of the records zeros are written at a time.
    static let zeroFillBytes = 1 << 20
    private static let zeros = [UInt8](repeating: 0, count: 64 * 1024)

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
        writtenThrough = offset
    }

    /// Makes sure the blocks up to `end` are written ones before records go there, writing
    /// zeros from the current end of the records up to at least `zeroFillBytes` further
    /// (never past `capacityBytes`). Zeros beyond `writeOffset` read as "no record", which is
    /// what recovery already expects of a preallocated tail.
    func prepareWrite(through end: Int) throws {
        guard end > writtenThrough else { return }
        var offset = max(writtenThrough, writeOffset)
        let target = min(capacityBytes, max(end, offset + Self.zeroFillBytes))
        while offset < target {
            let count = min(Self.zeros.count, target - offset)
            try Self.zeros.withUnsafeBytes { try file.write(UnsafeRawBufferPointer(rebasing: $0[..<count]), at: offset) }
            offset += count
        }
        writtenThrough = max(target, end)
    }

    func remainingBytes() -> Int { capacityBytes - writeOffset }
}
