import CartTypes
import Foundation
import Logging
import XCTest
@testable import CartStorage

/// A fresh directory under the system temp dir, removed when the test ends (also on failure).
final class TemporaryDirectory {
    let path: String

    init(_ name: String = #function) {
        let unique = "cart-storage-\(name.filter(\.isLetter))-\(UUID().uuidString)"
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent(unique)
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func segmentPaths(_ subdirectory: String = "") -> [String] {
        let directory = subdirectory.isEmpty ? path : path + "/" + subdirectory
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".seg") }.sorted().map { directory + "/" + $0 }
    }
}

/// A deterministic generator (SplitMix64) so failing runs can be replayed from the printed seed.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

let quietLogger: Logger = {
    var logger = Logger(label: "cart.storage.test")
    logger.logLevel = .critical
    return logger
}()

/// Entries `first...first+count-1`, all in `term`, with payloads that name their index so a
/// record returned from the wrong place can never look right.
func makeEntries(from first: UInt64, count: Int, term: UInt64, payloadBytes: Int = 40) -> [StoredEntry] {
    (0..<UInt64(count)).map { offset in
        let index = first + offset
        let stamp = Array("entry-\(index)-term-\(term)|".utf8)
        let payload = (0..<payloadBytes).map { stamp[$0 % stamp.count] }
        return StoredEntry(index: LogIndex(index), term: Term(term), payload: payload)
    }
}

extension PartitionLog {
    /// Appends and blocks until durable (tests run on plain threads, not in async contexts).
    func appendAndWait(_ entries: [StoredEntry], file: StaticString = #filePath, line: UInt = #line) throws {
        let done = DispatchSemaphore(value: 0)
        let outcome = ResultBox()
        try append(entries) { result in
            outcome.set(result)
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success, "append never became durable", file: file, line: line)
        try outcome.get()
    }

    /// Every entry currently readable.
    func allEntries() throws -> [StoredEntry] {
        lastIndex < firstIndex ? [] : try entries(from: firstIndex, through: lastIndex)
    }
}

final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<Void, StorageError>?
    func set(_ value: Result<Void, StorageError>) { lock.withLock { result = value } }
    func get() throws { try lock.withLock { try result?.get() } }
}

func options(segmentBytesMax: Int = 64 * 1024, sync: SyncPolicy = .fsyncPerBatch,
             recovery: RecoveryMode = .strict) -> PartitionLogOptions {
    PartitionLogOptions(segmentBytesMax: segmentBytesMax, payloadBytesMax: min(4 * 1024, segmentBytesMax / 2), syncPolicy: sync, recoveryMode: recovery)
}

func readFile(_ path: String) -> [UInt8] { Array(FileManager.default.contents(atPath: path)!) }
func writeFile(_ path: String, _ bytes: [UInt8]) { try! Data(bytes).write(to: URL(fileURLWithPath: path)) }

/// Collects log messages so tests can check that recovery says what it cut.
final class CapturedLogs: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [(Logger.Level, String, Logger.Metadata)] = []

    func record(_ level: Logger.Level, _ message: String, _ metadata: Logger.Metadata) {
        lock.withLock { messages.append((level, message, metadata)) }
    }

    var all: [(level: Logger.Level, message: String, metadata: Logger.Metadata)] {
        lock.withLock { messages.map { ($0.0, $0.1, $0.2) } }
    }

    var logger: Logger {
        Logger(label: "cart.storage.test") { _ in CapturingHandler(sink: self) }
    }
}

struct CapturingHandler: LogHandler {
    let sink: CapturedLogs
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        sink.record(event.level, event.message.description, metadata.merging(event.metadata ?? [:]) { $1 })
    }
}
