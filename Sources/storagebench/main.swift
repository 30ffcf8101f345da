// storagebench: appends/s, MB/s and appends per sync of CartStorage on the real disk,
// next to the disk's own sync latency measured in the same run (only same-run ratios mean
// anything: on shared machines the sync latency swings by an order of magnitude).
//
//   swift run -c release storagebench [--dir PATH] [--seconds S]
//
// Every appender runs a closed loop: append a batch of 200-byte records, wait until it is
// durable, repeat. Shapes compared with 16 partitions:
//   log-per-partition: 16 PartitionLogs (16 files, 16 group-commit threads), one appender each;
//   shared-wal:        1 PartitionLog shared by 16 appenders (one file, one sync covers all),
//                      the shape of a per-node write-ahead log.
#if canImport(Glibc)
import Glibc
#endif
import CartStorage
import CartTypes
import Foundation
import Logging

struct Arguments {
    var directory = FileManager.default.currentDirectoryPath + "/.build/storagebench-data"
    var secondsPerRun = 2.0
    let recordPayloadBytes = 200

    init() {
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = arguments.next() {
            switch argument {
            case "--dir": directory = arguments.next() ?? directory
            case "--seconds": secondsPerRun = Double(arguments.next() ?? "") ?? secondsPerRun
            default:
                print("usage: storagebench [--dir PATH] [--seconds S]")
                exit(2)
            }
        }
    }
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

// MARK: The disk's own limit

struct SyncLatency {
    var meanMs: Double
    var p50Ms: Double
    var p99Ms: Double
    var syncsPerSecond: Double { 1000 / meanMs }
}

/// 4 KiB pwrite + fdatasync in a loop on a preallocated file: what one sync costs here.
func measureSyncLatency(directory: String, seconds: Double) -> SyncLatency {
    let path = directory + "/sync-probe"
    let descriptor = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644)
    precondition(descriptor >= 0, "cannot create \(path)")
    defer { close(descriptor); unlink(path) }
    let fileBytes = 64 * 1024 * 1024
    precondition(posix_fallocate(descriptor, 0, off_t(fileBytes)) == 0, "fallocate failed")
    fsync(descriptor)
    let block = [UInt8](repeating: 0x5A, count: 4096)
    var latencies: [Double] = []
    let end = now() + seconds
    var offset = 0
    while now() < end && latencies.count < 100_000 {
        let start = now()
        _ = block.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, 4096, off_t(offset)) }
        precondition(fdatasync(descriptor) == 0, "fdatasync failed")
        latencies.append((now() - start) * 1000)
        offset = (offset + 4096) % fileBytes
    }
    latencies.sort()
    return SyncLatency(meanMs: latencies.reduce(0, +) / Double(latencies.count),
                       p50Ms: latencies[latencies.count / 2], p99Ms: latencies[latencies.count * 99 / 100])
}

// MARK: Appending

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func add(_ amount: Int) { lock.withLock { value += amount } }
    var total: Int { lock.withLock { value } }
}

struct RunResult {
    var appends: Int
    var seconds: Double
    var syncs: UInt64
}

/// `appenders` threads, each appending `batch` records per call to `logs[thread % logs.count]`
/// and waiting for durability before the next call, for `seconds`.
func run(logs: [PartitionLog], appenders: Int, batch: Int, payloadBytes: Int, seconds: Double) -> RunResult {
    let payload = [UInt8](repeating: 0xC4, count: payloadBytes)
    let appended = Counter()
    let indexLocks = logs.map { _ in NSLock() }
    let start = now()
    let end = start + seconds
    let finished = DispatchGroup()
    // One real thread per appender (concurrentPerform would run only as many as there are cores).
    for thread in 0..<appenders {
        finished.enter()
        let log = logs[thread % logs.count]
        let indexLock = indexLocks[thread % logs.count]
        Thread {
            let durable = DispatchSemaphore(value: 0)
            while now() < end {
                do {
                    try indexLock.withLock {
                        let first = log.lastIndex.rawValue + 1
                        let entries = (0..<UInt64(batch)).map { StoredEntry(index: LogIndex(first + $0), term: 1, payload: payload) }
                        try log.append(entries) { result in
                            if case let .failure(error) = result { fatalError("append failed: \(error)") }
                            durable.signal()
                        }
                    }
                } catch {
                    fatalError("append failed: \(error)")
                }
                durable.wait()
                appended.add(batch)
            }
            finished.leave()
        }.start()
    }
    finished.wait()
    let elapsed = now() - start
    return RunResult(appends: appended.total, seconds: elapsed, syncs: logs.reduce(0) { $0 + $1.statistics.dataSyncs })
}

func openLogs(count: Int, under directory: String, policy: SyncPolicy) throws -> [PartitionLog] {
    var logger = Logger(label: "storagebench")
    logger.logLevel = .warning
    return try (0..<count).map { partition in
        let options = PartitionLogOptions(segmentBytesMax: 16 * 1024 * 1024, syncPolicy: policy)
        return try PartitionLog.open(directory: directory + "/p\(partition)", partition: PartitionID(UInt32(partition)),
                                     options: options, logger: logger)
    }
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}

func format(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }

// MARK: Main

let arguments = Arguments()
try? FileManager.default.removeItem(atPath: arguments.directory)
try FileManager.default.createDirectory(atPath: arguments.directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: arguments.directory) }

/// The filesystem type and device of the longest mount point containing `path` (/proc/mounts).
func fileSystem(of path: String) -> String {
    guard let mounts = try? String(contentsOfFile: "/proc/mounts", encoding: .utf8) else { return "unknown" }
    var best: [Substring] = []
    for line in mounts.split(separator: "\n") {
        let fields = line.split(separator: " ")
        guard fields.count > 2 else { continue }
        let mountPoint = String(fields[1])
        let prefix = mountPoint == "/" ? "/" : mountPoint + "/"
        guard path == mountPoint || path.hasPrefix(prefix) else { continue }
        if best.isEmpty || mountPoint.count > best[1].count { best = fields }
    }
    return best.isEmpty ? "unknown" : "\(best[2]) on \(best[0])"
}

let mounted = fileSystem(of: arguments.directory)
print("storagebench: data in \(arguments.directory) (\(mounted)\(mounted.hasPrefix("tmpfs") ? "; tmpfs syncs are free, figures meaningless" : ""))")
print("records of \(arguments.recordPayloadBytes) payload bytes (\(arguments.recordPayloadBytes + 32) on disk with header), \(format(arguments.secondsPerRun)) s per run")

let before = measureSyncLatency(directory: arguments.directory, seconds: arguments.secondsPerRun)
print("disk sync (4 KiB pwrite + fdatasync, preallocated): mean \(format(before.meanMs, 3)) ms, p50 \(format(before.p50Ms, 3)) ms, p99 \(format(before.p99Ms, 3)) ms => physical limit \(format(before.syncsPerSecond, 0)) syncs/s")
print("")
print([pad("shape", 18), pad("parts", 5), pad("batch", 5), pad("appends/s", 10), pad("MB/s", 7), pad("syncs/s", 8),
       pad("appends/sync", 12), pad("syncs/entry", 11), pad("vs limit", 9)].joined(separator: " "))

struct Configuration {
    var shape: String
    var partitions: Int
    var logs: Int
    var batch: Int
    var policy: SyncPolicy = .fsyncPerBatch
}

var configurations: [Configuration] = []
for batch in [1, 16, 256] {
    configurations.append(Configuration(shape: "log-per-partition", partitions: 1, logs: 1, batch: batch))
    configurations.append(Configuration(shape: "log-per-partition", partitions: 16, logs: 16, batch: batch))
    configurations.append(Configuration(shape: "shared-wal", partitions: 16, logs: 1, batch: batch))
}
configurations.append(Configuration(shape: "no-sync (unsafe)", partitions: 1, logs: 1, batch: 16, policy: .none))

for (number, configuration) in configurations.enumerated() {
    let directory = arguments.directory + "/run\(number)"
    let logs = try openLogs(count: configuration.logs, under: directory, policy: configuration.policy)
    let result = run(logs: logs, appenders: configuration.partitions, batch: configuration.batch,
                     payloadBytes: arguments.recordPayloadBytes, seconds: arguments.secondsPerRun)
    for log in logs { try log.close() }
    try? FileManager.default.removeItem(atPath: directory)
    let appendsPerSecond = Double(result.appends) / result.seconds
    let megabytesPerSecond = appendsPerSecond * Double(arguments.recordPayloadBytes) / 1e6
    let syncsPerSecond = Double(result.syncs) / result.seconds
    let appendsPerSync = result.syncs == 0 ? Double.infinity : Double(result.appends) / Double(result.syncs)
    // How many appends each physical sync slot carried: appends/s over the disk's syncs/s.
    let versusLimit = appendsPerSecond / before.syncsPerSecond
    print([pad(configuration.shape, 18), pad("\(configuration.partitions)", 5), pad("\(configuration.batch)", 5),
           pad(format(appendsPerSecond, 0), 10), pad(format(megabytesPerSecond, 2), 7), pad(format(syncsPerSecond, 0), 8),
           pad(format(appendsPerSync, 1), 12), pad(result.syncs == 0 ? "0" : format(1 / appendsPerSync, 4), 11),
           pad(format(versusLimit, 1) + "x", 9)].joined(separator: " "))
}

let after = measureSyncLatency(directory: arguments.directory, seconds: arguments.secondsPerRun)
print("")
print("disk sync again after the runs: mean \(format(after.meanMs, 3)) ms, p50 \(format(after.p50Ms, 3)) ms (drift check)")
print("MB/s counts payload bytes; 'vs limit' = appends/s divided by the disk's syncs/s (appends carried per physical sync time).")
