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
    /// Zeros written ahead of the records, so a sync after a batch writes data only.
    private var zeroFill = ZeroFillAhead()

    var path: String { file.path }
    var fileName: String { Self.fileName(sequence: sequence) }

    private init(sequence: UInt64, file: PosixFile, capacityBytes: Int, writeOffset: Int) {
        self.sequence = sequence
        self.file = file
        self.capacityBytes = capacityBytes
        self.writeOffset = writeOffset
    }

    static func fileName(sequence: UInt64) -> String {
        NumberedFile.name(sequence: sequence, extension: fileExtension)
    }

    /// The sequence number in a segment file name, or nil for other files.
    static func sequence(ofFileName name: String) -> UInt64? {
        NumberedFile.sequence(ofFileName: name, extension: fileExtension)
    }

    /// Creates, preallocates and syncs a new empty segment, then syncs the directory so the
    /// file's existence survives a crash before the first record is acknowledged.
    static func create(directory: String, sequence: UInt64, capacityBytes: Int, policy: SyncPolicy) throws -> Segment {
        let file = try NumberedFile.create(directory: directory, name: fileName(sequence: sequence),
                                           capacityBytes: capacityBytes, policy: policy)
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
        zeroFill.reset(to: offset)
    }

    /// Makes sure the blocks up to `end` are written ones before records go there.
    func prepareWrite(through end: Int) throws {
        try zeroFill.prepare(file, writingFrom: writeOffset, through: end, capacityBytes: capacityBytes)
    }

    func remainingBytes() -> Int { capacityBytes - writeOffset }
}
