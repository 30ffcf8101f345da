import CartTypes
import Foundation
import XCTest
@testable import CartStorage

final class GroupCommitTests: XCTestCase {
    /// Eight threads append concurrently while the first sync is held at the disk (as a slow
    /// fdatasync would be): every append that arrives meanwhile shares the next sync, so 200
    /// appends cost at most two syncs, and all are durable.
    func testConcurrentAppendersShareSyncs() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog.open(directory: directory.path, partition: 0, options: options(segmentBytesMax: 1 << 20), logger: quietLogger)
        let gate = DispatchSemaphore(value: 0)
        log.setSyncGateForTesting(gate)
        let appenders = 8
        let appendsEach = 25
        let nextIndex = NSLock()
        let failures = ResultCounter()
        let durable = DispatchGroup()
        let submitted = DispatchGroup()
        for _ in 0..<appenders {
            submitted.enter()
            Thread {
                for _ in 0..<appendsEach {
                    durable.enter()
                    do {
                        // Index assignment and append are one step so the log stays contiguous.
                        try nextIndex.withLock {
                            try log.append(makeEntries(from: log.lastIndex.rawValue + 1, count: 1, term: 1)) { result in
                                if case .failure = result { failures.increment() }
                                durable.leave()
                            }
                        }
                    } catch {
                        failures.increment()
                        durable.leave()
                    }
                }
                submitted.leave()
            }.start()
        }
        XCTAssertEqual(submitted.wait(timeout: .now() + 30), .success)
        let total = UInt64(appenders * appendsEach)
        XCTAssertEqual(log.statistics.durableAppends, 0, "nothing may be durable while the sync is held")
        gate.signal()
        XCTAssertEqual(durable.wait(timeout: .now() + 30), .success)
        let statistics = log.statistics
        XCTAssertEqual(failures.value, 0)
        XCTAssertEqual(log.lastIndex, LogIndex(total))
        XCTAssertEqual(statistics.durableAppends, total)
        // The thread took either only the first append or all of them before reaching the gate.
        XCTAssertGreaterThanOrEqual(statistics.dataSyncs, 1)
        XCTAssertLessThanOrEqual(statistics.dataSyncs, 2, "appends that arrived during a sync did not share the next one")
    }

    /// One pipelined appender (not waiting between appends): the completion of an append
    /// runs only after a sync that covers it has returned.
    func testCompletionRunsOnlyAfterASyncCoveringTheAppend() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog.open(directory: directory.path, partition: 0, options: options(), logger: quietLogger)
        let syncsSeen = SyncsSeen()
        let failures = ResultCounter()
        let done = DispatchGroup()
        for index in 1...50 {
            done.enter()
            try log.append(makeEntries(from: UInt64(index), count: 1, term: 1)) { result in
                if case .failure = result { failures.increment() }
                syncsSeen.record(log.statistics.dataSyncs)
                done.leave()
            }
        }
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success)
        XCTAssertEqual(failures.value, 0)
        XCTAssertFalse(syncsSeen.values.contains(0), "an append was reported durable before any sync")
        XCTAssertLessThan(log.statistics.dataSyncs, 50)
    }

    /// The node reads entries (to ship them to followers) while its Raft loop appends: two
    /// reader threads read random ranges during 100 pipelined appends across small segments
    /// and always see exactly the entries that were written, never a partial record.
    func testReadersSeeConsistentEntriesWhileAppendsAndRollsHappen() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog.open(directory: directory.path, partition: 0, options: options(segmentBytesMax: 2048), logger: quietLogger)
        let appendsDone = DispatchGroup()
        let readersDone = DispatchGroup()
        let mismatches = ResultCounter()
        let reads = ResultCounter()
        let appendsFinished = ResultCounter()
        let finished = ResultBox()
        for reader in 0..<2 {
            readersDone.enter()
            Thread {
                var random = SeededRandom(seed: UInt64(reader + 1))
                // Read until the appends are durable (bounded in count for safety).
                var attempts = 0
                while appendsFinished.value == 0 && attempts < 200_000 {
                    attempts += 1
                    let last = log.lastIndex.rawValue
                    guard last >= 1 else { continue }
                    reads.increment()
                    let first = UInt64.random(in: 1...last, using: &random)
                    let through = UInt64.random(in: first...last, using: &random)
                    let read = (try? log.entries(from: LogIndex(first), through: LogIndex(through))) ?? []
                    if read != makeEntries(from: first, count: Int(through - first + 1), term: 1, payloadBytes: 30) {
                        mismatches.increment()
                    }
                }
                readersDone.leave()
            }.start()
        }
        for batch in 0..<100 {
            appendsDone.enter()
            try log.append(makeEntries(from: UInt64(batch * 3 + 1), count: 3, term: 1, payloadBytes: 30)) { result in
                if case .failure = result { finished.set(result) }
                appendsDone.leave()
            }
        }
        XCTAssertEqual(appendsDone.wait(timeout: .now() + 30), .success)
        appendsFinished.increment()
        XCTAssertEqual(readersDone.wait(timeout: .now() + 60), .success)
        XCTAssertGreaterThan(reads.value, 0)
        XCTAssertNoThrow(try finished.get())
        XCTAssertEqual(mismatches.value, 0)
        XCTAssertGreaterThan(log.statistics.segmentCount, 5, "the appends must roll segments while readers read")
    }

    /// A roll seals the full segment with a sync that makes the appends still waiting
    /// durable, then creates the next segment. Here creation fails (something already holds
    /// the next segment's name, so the exclusive create gets EEXIST, as it would for root
    /// too): the appends the seal made durable are still reported durable before the failing
    /// append throws, the log refuses further writes even once the obstacle is gone, and
    /// reopening gives every acknowledged entry. The appends wait for the seal because the
    /// only shared sync worker is held inside a sync of another log.
    func testAppendsMadeDurableByARollAreReportedWhenTheNextSegmentCannotBeCreated() throws {
        let directory = TemporaryDirectory()
        let workers = SyncWorkers(threads: 1, name: "test-sync")
        let smallSegments = options(segmentBytesMax: 1024)  // 14 records of 72 bytes
        let log = try PartitionLog.open(directory: directory.path + "/rolling", partition: 0, options: smallSegments,
                                        syncWorkers: workers, logger: quietLogger)
        let other = try PartitionLog.open(directory: directory.path + "/other", partition: 1, options: options(),
                                          syncWorkers: workers, logger: quietLogger)
        let gate = DispatchSemaphore(value: 0)
        other.setSyncGateForTesting(gate)
        let otherDurable = DispatchGroup()
        otherDurable.enter()
        try other.append(makeEntries(from: 1, count: 1, term: 1)) { _ in otherDurable.leave() }
        let deadline = Date().addingTimeInterval(10)
        while workers.queuedCount > 0, Date() < deadline { usleep(1_000) }  // the worker took it and waits at the gate

        let successes = ResultCounter()
        let failures = ResultCounter()
        for index in 1...10 {
            try log.append(makeEntries(from: UInt64(index), count: 1, term: 1)) { result in
                if case .success = result { successes.increment() } else { failures.increment() }
            }
        }
        XCTAssertEqual(log.statistics.durableAppends, 0, "nothing may be durable while the worker is held")
        let nextSegment = directory.path + "/rolling/" + Segment.fileName(sequence: 2)
        try FileManager.default.createDirectory(atPath: nextSegment, withIntermediateDirectories: false)

        // Entries 11...14 still fit the first segment; 15 needs the roll.
        let rollError = StorageError.io(operation: "open", path: nextSegment, errno: EEXIST)
        XCTAssertThrowsError(try log.append(makeEntries(from: 11, count: 6, term: 1)) { _ in
            XCTFail("the failed append must not also complete")
        }) { XCTAssertEqual($0 as? StorageError, rollError) }
        XCTAssertEqual(successes.value, 10, "the appends the roll's sync made durable were never reported")
        XCTAssertEqual(failures.value, 0)
        XCTAssertEqual(log.lastIndex, 10)

        try FileManager.default.removeItem(atPath: nextSegment)
        XCTAssertThrowsError(try log.append(makeEntries(from: 11, count: 6, term: 1)) { _ in }) {
            XCTAssertEqual($0 as? StorageError, rollError, "a log stopped by a failed roll must stay stopped")
        }
        XCTAssertThrowsError(try log.sync()) { XCTAssertEqual($0 as? StorageError, rollError) }
        try log.close()
        other.setSyncGateForTesting(nil)
        gate.signal()
        XCTAssertEqual(otherDurable.wait(timeout: .now() + 30), .success)
        try other.close()
        workers.stop()

        // The sealed segment may also hold the records of the failed append written before
        // the roll (never acknowledged, like a crash's unsynced tail); the log is intact.
        let reopened = try PartitionLog.open(directory: directory.path + "/rolling", partition: 0, options: smallSegments,
                                             logger: quietLogger)
        XCTAssertGreaterThanOrEqual(reopened.lastIndex.rawValue, 10)
        XCTAssertEqual(try reopened.allEntries(), makeEntries(from: 1, count: Int(reopened.lastIndex.rawValue), term: 1))
        try reopened.appendAndWait(makeEntries(from: reopened.lastIndex.rawValue + 1, count: 6, term: 1))
        XCTAssertEqual(reopened.statistics.segmentCount, 2)
        try reopened.close()
    }

    /// With the unsafe `.none` policy nothing is synced at all (benchmarks only).
    func testNonePolicyNeverSyncs() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog.open(directory: directory.path, partition: 0, options: options(sync: .none), logger: quietLogger)
        for index in 1...10 { try log.appendAndWait(makeEntries(from: UInt64(index), count: 1, term: 1)) }
        XCTAssertEqual(log.statistics.dataSyncs, 0)
        XCTAssertEqual(log.statistics.durableAppends, 10)
    }

    /// After close, appends are refused with a typed error instead of hanging.
    func testClosedLogRefusesAppends() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog.open(directory: directory.path, partition: 0, options: options(), logger: quietLogger)
        try log.close()
        XCTAssertThrowsError(try log.appendAndWait(makeEntries(from: 1, count: 1, term: 1))) {
            XCTAssertEqual($0 as? StorageError, .closed)
        }
    }

    /// The async API resumes after durability.
    func testAsyncAppendResumesWhenDurable() async throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog.open(directory: directory.path, partition: 0, options: options(), logger: quietLogger)
        try await log.append(makeEntries(from: 1, count: 3, term: 1))
        XCTAssertEqual(log.statistics.durableAppends, 1)
        XCTAssertEqual(log.lastIndex, 3)
    }
}

final class ResultCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

final class SyncsSeen: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [UInt64] = []
    func record(_ value: UInt64) { lock.withLock { seen.append(value) } }
    var values: [UInt64] { lock.withLock { seen } }
}
