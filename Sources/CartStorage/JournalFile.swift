/// One file of the node journal (`00000000000000000003.journal`), preallocated to its
/// capacity, records appended at increasing offsets.
///
/// Like a segment it writes zeros ahead of the records (`zeroFillBytes` at a time), so the
/// group-commit `fdatasync` writes data only, not also the inode of a converted extent.
///
/// Not thread-safe: `NodeJournal` lets one thread at a time write (its `writing` flag).
final class JournalFile {
    static let fileExtension = "journal"
    /// How far ahead of the records zeros are written at a time.
    static let zeroFillBytes = 1 << 20
    private static let zeros = [UInt8](repeating: 0, count: 64 * 1024)

    let sequence: UInt64
    let file: PosixFile
    let capacityBytes: Int
    /// Bytes known to be written blocks (records, or zeros written ahead of them).
    private var writtenThrough = 0

    var path: String { file.path }

    private init(sequence: UInt64, file: PosixFile, capacityBytes: Int) {
        self.sequence = sequence
        self.file = file
        self.capacityBytes = capacityBytes
    }

    static func fileName(sequence: UInt64) -> String {
        let digits = String(sequence)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + "." + fileExtension
    }

    /// The sequence number in a journal file name, or nil for other files.
    static func sequence(ofFileName name: String) -> UInt64? {
        guard name.hasSuffix("." + fileExtension), name.count == 20 + 1 + fileExtension.count else { return nil }
        return UInt64(name.prefix(20))
    }

    /// Creates and preallocates a new empty file, then makes it and its name durable.
    static func create(directory: String, sequence: UInt64, capacityBytes: Int, policy: SyncPolicy) throws -> JournalFile {
        let file = try PosixFile.open(directory + "/" + fileName(sequence: sequence), create: true, exclusive: true)
        try file.preallocate(bytes: capacityBytes)
        if policy == .fsyncPerBatch {
            try file.fullSync()
            try PosixFile.syncDirectory(directory)
        }
        return JournalFile(sequence: sequence, file: file, capacityBytes: capacityBytes)
    }

    /// Writes `bytes` at `offset`, zero-filling ahead first (never past the capacity; a
    /// file that overflows its capacity simply grows until the next checkpoint replaces it).
    func write(_ bytes: [UInt8], at offset: Int) throws {
        let end = offset + bytes.count
        if end > writtenThrough && writtenThrough < capacityBytes {
            var position = max(writtenThrough, offset)
            let target = min(capacityBytes, max(end, position + Self.zeroFillBytes))
            while position < target {
                let count = min(Self.zeros.count, target - position)
                try Self.zeros.withUnsafeBytes { try file.write(UnsafeRawBufferPointer(rebasing: $0[..<count]), at: position) }
                position += count
            }
            writtenThrough = max(target, end)
        }
        try file.write(bytes, at: offset)
    }
}
