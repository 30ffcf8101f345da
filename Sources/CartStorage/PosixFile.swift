#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// An open file and the few POSIX calls the storage layer needs, each turning `errno` into
/// a `StorageError`. `@unchecked Sendable`: the descriptor never changes after `open`, and
/// `pread`/`pwrite`/`fdatasync` are safe to call from several threads on one descriptor.
final class PosixFile: @unchecked Sendable {
    let path: String
    let descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { _ = systemClose(descriptor) }

    /// Opens `path` read-write; `exclusive` creates it and fails if it exists.
    static func open(_ path: String, create: Bool, exclusive: Bool = false) throws -> PosixFile {
        var flags = O_RDWR | O_CLOEXEC
        if create { flags |= O_CREAT }
        if exclusive { flags |= O_EXCL }
        let descriptor = systemOpen(path, flags, 0o644)
        guard descriptor >= 0 else { throw StorageError.io(operation: "open", path: path, errno: errno) }
        return PosixFile(path: path, descriptor: descriptor)
    }

    func sizeBytes() throws -> Int {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw StorageError.io(operation: "fstat", path: path, errno: errno) }
        return Int(status.st_size)
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < bytes.count {
            let written = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if written < 0 {
                if errno == EINTR { continue }
                throw StorageError.io(operation: "pwrite", path: path, errno: errno)
            }
            done += written
        }
    }

    func write(_ bytes: [UInt8], at offset: Int) throws {
        try bytes.withUnsafeBytes { try write($0, at: offset) }
    }

    /// Reads up to `count` bytes at `offset`; fewer only at the end of the file.
    func read(count: Int, at offset: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var done = 0
        try buffer.withUnsafeMutableBytes { raw in
            while done < count {
                let got = pread(descriptor, raw.baseAddress! + done, count - done, off_t(offset + done))
                if got < 0 {
                    if errno == EINTR { continue }
                    throw StorageError.io(operation: "pread", path: path, errno: errno)
                }
                if got == 0 { break }
                done += got
            }
        }
        buffer.removeLast(count - done)
        return buffer
    }

    /// Forces the data (and the metadata needed to read it back) to the disk.
    func dataSync() throws {
        #if os(Linux)
        let result = fdatasync(descriptor)
        #else
        let result = fcntl(descriptor, F_FULLFSYNC)
        #endif
        guard result == 0 else { throw StorageError.syncFailed(path: path, errno: errno) }
    }

    /// Forces data and all metadata (size, timestamps) to the disk.
    func fullSync() throws {
        guard fsync(descriptor) == 0 else { throw StorageError.syncFailed(path: path, errno: errno) }
    }

    /// Reserves disk blocks so later writes inside `0..<bytes` never grow the file.
    func preallocate(bytes: Int) throws {
        #if os(Linux)
        let result = posix_fallocate(descriptor, 0, off_t(bytes))
        guard result == 0 else { throw StorageError.io(operation: "fallocate", path: path, errno: result) }
        #else
        if try sizeBytes() < bytes { try truncate(toBytes: bytes) }
        #endif
    }

    func truncate(toBytes bytes: Int) throws {
        guard ftruncate(descriptor, off_t(bytes)) == 0 else {
            throw StorageError.io(operation: "ftruncate", path: path, errno: errno)
        }
    }

    // MARK: Directory operations

    /// Makes creations, renames and deletions inside `directory` durable.
    static func syncDirectory(_ directory: String) throws {
        let descriptor = systemOpen(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)
        guard descriptor >= 0 else { throw StorageError.io(operation: "open", path: directory, errno: errno) }
        defer { _ = systemClose(descriptor) }
        guard fsync(descriptor) == 0 else { throw StorageError.syncFailed(path: directory, errno: errno) }
    }

    static func rename(_ source: String, to destination: String) throws {
        guard systemRename(source, destination) == 0 else {
            throw StorageError.io(operation: "rename", path: source, errno: errno)
        }
    }

    static func remove(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else {
            throw StorageError.io(operation: "unlink", path: path, errno: errno)
        }
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    static func makeDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw StorageError.io(operation: "mkdir", path: path, errno: posixCode(of: error))
        }
    }

    static func listDirectory(_ path: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw StorageError.io(operation: "readdir", path: path, errno: posixCode(of: error))
        }
    }

    /// The errno inside a Foundation error, or EIO when it carries none.
    private static func posixCode(of error: any Error) -> Int32 {
        let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
        if let posix = [error as NSError, underlying].compactMap({ $0 }).first(where: { $0.domain == NSPOSIXErrorDomain }) {
            return Int32(posix.code)
        }
        return EIO
    }
}

// Module-qualified aliases: inside `PosixFile` the bare names would resolve to its own methods.
private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
private func systemClose(_ descriptor: Int32) -> Int32 { close(descriptor) }
private func systemRename(_ source: String, _ destination: String) -> Int32 { rename(source, destination) }
