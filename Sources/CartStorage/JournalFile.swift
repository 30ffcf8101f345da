/// One file of the node journal (`00000000000000000003.journal`), preallocated to its
/// capacity, records appended at increasing offsets.
///
/// Like a segment it writes zeros ahead of the records (`ZeroFillAhead`), so the
/// group-commit `fdatasync` writes data only, not also the metadata of a converted extent.
///
/// Not thread-safe: `NodeJournal` lets one thread at a time write (its `writing` flag).
final class JournalFile {
    static let fileExtension = "journal"

    let sequence: UInt64
    let file: PosixFile
    let capacityBytes: Int
    private var zeroFill = ZeroFillAhead()

    var path: String { file.path }

    private init(sequence: UInt64, file: PosixFile, capacityBytes: Int) {
        self.sequence = sequence
        self.file = file
        self.capacityBytes = capacityBytes
    }

    static func fileName(sequence: UInt64) -> String {
        NumberedFile.name(sequence: sequence, extension: fileExtension)
    }

    /// The sequence number in a journal file name, or nil for other files.
    static func sequence(ofFileName name: String) -> UInt64? {
        NumberedFile.sequence(ofFileName: name, extension: fileExtension)
    }

    /// Creates and preallocates a new empty file, then makes it and its name durable.
    static func create(directory: String, sequence: UInt64, capacityBytes: Int, policy: SyncPolicy) throws -> JournalFile {
        let file = try NumberedFile.create(directory: directory, name: fileName(sequence: sequence),
                                           capacityBytes: capacityBytes, policy: policy)
        return JournalFile(sequence: sequence, file: file, capacityBytes: capacityBytes)
    }

    /// Writes `bytes` at `offset`, zero-filling ahead first (never past the capacity; a
    /// file that overflows its capacity simply grows until the next checkpoint replaces it).
    func write(_ bytes: [UInt8], at offset: Int) throws {
        try zeroFill.prepare(file, writingFrom: offset, through: offset + bytes.count, capacityBytes: capacityBytes)
        try file.write(bytes, at: offset)
    }
}
