/// What log segments and journal files have in common: a name made of a zero-padded
/// sequence number and an extension (`00000000000000000007.seg`), creation preallocated to a
/// fixed capacity, and zeros written ahead of the records.
enum NumberedFile {
    static let sequenceDigits = 20

    static func name(sequence: UInt64, extension fileExtension: String) -> String {
        let digits = String(sequence)
        return String(repeating: "0", count: max(0, sequenceDigits - digits.count)) + digits + "." + fileExtension
    }

    /// The sequence number in a file name with `fileExtension`, or nil for other files.
    static func sequence(ofFileName name: String, extension fileExtension: String) -> UInt64? {
        guard name.hasSuffix("." + fileExtension), name.count == sequenceDigits + 1 + fileExtension.count else { return nil }
        return UInt64(name.prefix(sequenceDigits))
    }

    /// Creates and preallocates a new empty file, then (when syncing) makes it and its name
    /// durable, so its existence survives a crash before its first record is acknowledged.
    /// If a step after the creation fails (no room to preallocate, a failed sync), the file
    /// is removed again, best effort: left behind, it would make a retry at this name fail
    /// (the creation is exclusive), and recovery would adopt a file never preallocated.
    static func create(directory: String, name: String, capacityBytes: Int, policy: SyncPolicy) throws -> PosixFile {
        let path = directory + "/" + name
        let file = try PosixFile.open(path, create: true, exclusive: true)
        do {
            try file.preallocate(bytes: capacityBytes)
            if policy == .fsyncPerBatch {
                try file.fullSync()
                try PosixFile.syncDirectory(directory)
            }
        } catch {
            try? PosixFile.remove(path)
            throw error
        }
        return file
    }
}

/// Zeros written ahead of the records of a preallocated file. `fallocate` reserves
/// *unwritten* extents: the first write into one converts it, and the next `fdatasync` must
/// then also write that metadata. Writing zeros ahead in `stepBytes` pieces pays that once
/// per piece instead of on every sync. Zeros beyond the records read as "no record", which
/// is what recovery already expects of a preallocated tail.
struct ZeroFillAhead {
    /// How far ahead of the records zeros are written at a time.
    static let stepBytes = 1 << 20
    private static let zeros = [UInt8](repeating: 0, count: 64 * 1024)

    /// Bytes from the start known to be written blocks (records, or zeros written ahead).
    private(set) var writtenThrough = 0

    /// Before records are written from `start` up to `end`: writes zeros from the end of
    /// what is known written (or `start`) to at least `stepBytes` further, never past
    /// `capacityBytes` (a file written past its capacity just grows).
    mutating func prepare(_ file: PosixFile, writingFrom start: Int, through end: Int, capacityBytes: Int) throws {
        guard end > writtenThrough, writtenThrough < capacityBytes else { return }
        var position = max(writtenThrough, start)
        let target = min(capacityBytes, max(end, position + Self.stepBytes))
        while position < target {
            let count = min(Self.zeros.count, target - position)
            try Self.zeros.withUnsafeBytes { try file.write(UnsafeRawBufferPointer(rebasing: $0[..<count]), at: position) }
            position += count
        }
        writtenThrough = max(target, end)
    }

    /// The file was cut at `offset`: what follows is unwritten again.
    mutating func reset(to offset: Int) {
        writtenThrough = offset
    }
}
