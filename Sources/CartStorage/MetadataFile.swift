import Foundation

/// A small file replaced atomically: the new content goes to `<name>.tmp`, is synced, renamed
/// over the old file, and the directory is synced. A crash at any point leaves either the
/// complete old content or the complete new content, never a mix; a leftover temp file is
/// ignored and replaced by the next write.
///
/// | offset | bytes | field                                   |
/// |-------:|------:|-----------------------------------------|
/// |      0 |     4 | magic `0x44_4D_43_53` ("SCMD")          |
/// |      4 |     4 | format version (1)                      |
/// |      8 |     4 | payload length                          |
/// |     12 |     4 | CRC-32C of bytes 0..<12 and the payload |
/// |     16 |     n | payload                                 |
enum MetadataFile {
    static let magic: UInt32 = 0x444D_4353
    static let version: UInt32 = 1
    static let headerBytes = 16
    static let payloadBytesMax = 64 * 1024
    static let temporarySuffix = ".tmp"

    static func write(_ payload: [UInt8], to path: String, policy: SyncPolicy) throws {
        precondition(payload.count <= payloadBytesMax, "metadata payload over \(payloadBytesMax) bytes")
        let temporary = path + temporarySuffix
        try PosixFile.remove(temporary)
        let file = try PosixFile.open(temporary, create: true, exclusive: true)
        try file.write(encode(payload), at: 0)
        if policy == .fsyncPerBatch { try file.fullSync() }
        try PosixFile.rename(temporary, to: path)
        if policy == .fsyncPerBatch { try PosixFile.syncDirectory(directory(of: path)) }
    }

    /// The payload, or nil if the file does not exist.
    static func read(_ path: String) throws -> [UInt8]? {
        guard PosixFile.exists(path) else { return nil }
        let file = try PosixFile.open(path, create: false)
        let bytes = try file.read(count: headerBytes + payloadBytesMax + 1, at: 0)
        return try decode(bytes, path: path)
    }

    static func encode(_ payload: [UInt8]) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(headerBytes + payload.count)
        appendLittleEndian(magic, to: &bytes)
        appendLittleEndian(version, to: &bytes)
        appendLittleEndian(UInt32(payload.count), to: &bytes)
        let checksum = bytes.withUnsafeBytes { header in
            payload.withUnsafeBytes { CRC32C.update(CRC32C.checksum(header), $0) }
        }
        appendLittleEndian(checksum, to: &bytes)
        bytes.append(contentsOf: payload)
        return bytes
    }

    static func decode(_ bytes: [UInt8], path: String) throws -> [UInt8] {
        guard bytes.count >= headerBytes else { throw StorageError.corruptMetadata(file: path, reason: "short header") }
        let field = { (offset: Int) in readLittleEndian(UInt32.self, bytes, offset) }
        guard field(0) == magic else { throw StorageError.corruptMetadata(file: path, reason: "bad magic") }
        guard field(4) == version else { throw StorageError.corruptMetadata(file: path, reason: "unknown version \(field(4))") }
        let length = Int(field(8))
        guard length <= payloadBytesMax, bytes.count == headerBytes + length else {
            throw StorageError.corruptMetadata(file: path, reason: "length \(length) does not match file size \(bytes.count)")
        }
        let payload = Array(bytes[headerBytes...])
        let checksum = bytes.withUnsafeBytes { raw in
            payload.withUnsafeBytes { CRC32C.update(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<12])), $0) }
        }
        guard checksum == field(12) else { throw StorageError.corruptMetadata(file: path, reason: "checksum mismatch") }
        return payload
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to buffer: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
}

func readLittleEndian<T: FixedWidthInteger>(_ type: T.Type, _ bytes: [UInt8], _ offset: Int) -> T {
    bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
}
