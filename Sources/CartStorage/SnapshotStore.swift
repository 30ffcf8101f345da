import CartTypes
import Foundation
import Logging

/// A state-machine snapshot: the bytes of every cart, item and user of a partition as of
/// `lastIndex`, whose entry had `term` (Raft §7).
public struct Snapshot: Sendable, Hashable {
    public var lastIndex: LogIndex
    public var term: Term
    public var data: [UInt8]

    public init(lastIndex: LogIndex, term: Term, data: [UInt8]) {
        self.lastIndex = lastIndex
        self.term = term
        self.data = data
    }
}

/// Snapshot files of one partition, written atomically (temp + fsync + rename + directory
/// fsync) and named `snapshot-<lastIndex>-<term>.snap` so listing them needs no reads.
/// Keeps the newest `retainedCount`; older ones are deleted after each save.
///
/// | offset | bytes | field                                               |
/// |-------:|------:|-----------------------------------------------------|
/// |      0 |     4 | magic `0x4E_53_43_53` ("SCSN")                      |
/// |      4 |     4 | format version (1)                                  |
/// |      8 |     8 | last index                                          |
/// |     16 |     8 | term                                                |
/// |     24 |     8 | data length                                         |
/// |     32 |     4 | CRC-32C of bytes 0..<32 and the data                |
/// |     36 |     4 | reserved, zero                                      |
/// |     40 |     n | data                                                |
///
/// Concurrency: an `NSLock` serializes saves, loads and deletions; `@unchecked Sendable` because of it.
public final class SnapshotStore: @unchecked Sendable {
    static let magic: UInt32 = 0x4E53_4353
    static let version: UInt32 = 1
    static let headerBytes = 40
    static let filePrefix = "snapshot-"
    static let fileSuffix = ".snap"

    public let directory: String
    public let retainedCount: Int
    public let dataBytesMax: Int
    private let policy: SyncPolicy
    private let lock = NSLock()
    private let logger: Logger

    init(directory: String, retainedCount: Int, dataBytesMax: Int, policy: SyncPolicy, logger: Logger) throws {
        precondition(retainedCount >= 1, "keep at least one snapshot")
        self.directory = directory
        self.retainedCount = retainedCount
        self.dataBytesMax = dataBytesMax
        self.policy = policy
        self.logger = logger
        try PosixFile.makeDirectory(directory)
        try removeTemporaryFiles()
    }

    /// Writes `snapshot` durably, then deletes all but the newest `retainedCount` snapshots.
    public func save(_ snapshot: Snapshot) throws {
        guard snapshot.data.count <= dataBytesMax else {
            throw StorageError.entryTooLarge(payloadBytes: snapshot.data.count, payloadBytesMax: dataBytesMax)
        }
        try lock.withLock {
            let path = directory + "/" + Self.fileName(lastIndex: snapshot.lastIndex, term: snapshot.term)
            let temporary = path + MetadataFile.temporarySuffix
            try PosixFile.remove(temporary)
            let file = try PosixFile.open(temporary, create: true, exclusive: true)
            try file.write(Self.encode(snapshot), at: 0)
            if policy == .fsyncPerBatch { try file.fullSync() }
            try PosixFile.rename(temporary, to: path)
            if policy == .fsyncPerBatch { try PosixFile.syncDirectory(directory) }
            try removeOldSnapshots()
        }
    }

    /// The newest snapshot, or nil if none was saved. A damaged newest snapshot is an error,
    /// not silently replaced by an older one: the log may already be compacted past it.
    public func loadLatest() throws -> Snapshot? {
        try lock.withLock {
            guard let newest = try listLocked().first else { return nil }
            return try load(fileName: newest.fileName)
        }
    }

    /// (last index, term) of every stored snapshot, newest first.
    public func list() throws -> [(lastIndex: LogIndex, term: Term)] {
        try lock.withLock { try listLocked().map { ($0.lastIndex, $0.term) } }
    }

    // MARK: Files

    private struct Listed {
        var lastIndex: LogIndex
        var term: Term
        var fileName: String
    }

    static func fileName(lastIndex: LogIndex, term: Term) -> String {
        filePrefix + padded(lastIndex.rawValue) + "-" + padded(term.rawValue) + fileSuffix
    }

    private static func padded(_ value: UInt64) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    private func listLocked() throws -> [Listed] {
        try PosixFile.listDirectory(directory).compactMap { name -> Listed? in
            guard name.hasPrefix(Self.filePrefix), name.hasSuffix(Self.fileSuffix) else { return nil }
            let fields = name.dropFirst(Self.filePrefix.count).dropLast(Self.fileSuffix.count).split(separator: "-")
            guard fields.count == 2, let index = UInt64(fields[0]), let term = UInt64(fields[1]) else { return nil }
            return Listed(lastIndex: LogIndex(index), term: Term(term), fileName: name)
        }
        .sorted { ($0.lastIndex, $0.term) > ($1.lastIndex, $1.term) }
    }

    private func removeOldSnapshots() throws {
        let old = try listLocked().dropFirst(retainedCount)
        guard !old.isEmpty else { return }
        for snapshot in old { try PosixFile.remove(directory + "/" + snapshot.fileName) }
        if policy == .fsyncPerBatch { try PosixFile.syncDirectory(directory) }
    }

    private func removeTemporaryFiles() throws {
        for name in try PosixFile.listDirectory(directory) where name.hasSuffix(MetadataFile.temporarySuffix) {
            logger.info("removing unfinished snapshot file", metadata: ["file": "\(name)"])
            try PosixFile.remove(directory + "/" + name)
        }
    }

    private func load(fileName: String) throws -> Snapshot {
        let path = directory + "/" + fileName
        let file = try PosixFile.open(path, create: false)
        let header = try file.read(count: Self.headerBytes, at: 0)
        guard header.count == Self.headerBytes else { throw StorageError.corruptSnapshot(file: path, reason: "short header") }
        guard readLittleEndian(UInt32.self, header, 0) == Self.magic,
              readLittleEndian(UInt32.self, header, 4) == Self.version,
              readLittleEndian(UInt32.self, header, 36) == 0 else {
            throw StorageError.corruptSnapshot(file: path, reason: "bad magic, version or reserved field")
        }
        let length = readLittleEndian(UInt64.self, header, 24)
        // Check the length against the limit before allocating for it.
        guard length <= UInt64(dataBytesMax) else {
            throw StorageError.corruptSnapshot(file: path, reason: "data length \(length) over limit \(dataBytesMax)")
        }
        let data = try file.read(count: Int(length) + 1, at: Self.headerBytes)
        guard data.count == Int(length) else { throw StorageError.corruptSnapshot(file: path, reason: "data length mismatch") }
        let checksum = header.withUnsafeBytes { raw in
            data.withUnsafeBytes { CRC32C.update(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<32])), $0) }
        }
        guard checksum == readLittleEndian(UInt32.self, header, 32) else {
            throw StorageError.corruptSnapshot(file: path, reason: "checksum mismatch")
        }
        let snapshot = Snapshot(lastIndex: LogIndex(readLittleEndian(UInt64.self, header, 8)),
                                term: Term(readLittleEndian(UInt64.self, header, 16)), data: data)
        guard fileName == Self.fileName(lastIndex: snapshot.lastIndex, term: snapshot.term) else {
            throw StorageError.corruptSnapshot(file: path, reason: "header does not match file name")
        }
        return snapshot
    }

    static func encode(_ snapshot: Snapshot) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(headerBytes + snapshot.data.count)
        appendLittleEndian(magic, to: &bytes)
        appendLittleEndian(version, to: &bytes)
        appendLittleEndian(snapshot.lastIndex.rawValue, to: &bytes)
        appendLittleEndian(snapshot.term.rawValue, to: &bytes)
        appendLittleEndian(UInt64(snapshot.data.count), to: &bytes)
        let checksum = bytes.withUnsafeBytes { header in
            snapshot.data.withUnsafeBytes { CRC32C.update(CRC32C.checksum(header), $0) }
        }
        appendLittleEndian(checksum, to: &bytes)
        appendLittleEndian(UInt32(0), to: &bytes)
        bytes.append(contentsOf: snapshot.data)
        return bytes
    }
}
