import CartTypes
import Foundation
import XCTest
@testable import CartStorage

/// Many partition logs sharing a few sync threads (`SyncWorkers`), as a node runs them.
final class SyncWorkersTests: XCTestCase {
    /// Story: sixteen logs, two shared workers, four threads appending to all of them at once
    /// (pipelined, not waiting). Every append becomes durable, each completion only after a
    /// sync of its log has covered it (cumulatively: when index k is reported durable, the
    /// log has finished syncs covering at least k appends); after reopening, every entry is
    /// there. (Completions of two consecutive syncs of one log may interleave on two workers.)
    func testSixteenLogsOnTwoWorkersMakeEveryAppendDurable() throws {
        let directory = TemporaryDirectory()
        let workers = SyncWorkers(threads: 2, name: "test-sync")
        let logs = try (0..<16).map { partition in
            try PartitionLog.open(directory: directory.path + "/p\(partition)", partition: PartitionID(UInt32(partition)),
                                  options: options(segmentBytesMax: 1 << 20), syncWorkers: workers, logger: quietLogger)
        }
        let appendsPerLog = 60
        let failures = ResultCounter()
        let earlyCompletions = ResultCounter()
        let durable = DispatchGroup()
        let submitted = DispatchGroup()
        for appender in 0..<4 {
            submitted.enter()
            Thread {
                // Appender k owns logs k, k+4, k+8, k+12, so each log has one writer.
                let mine = stride(from: appender, to: logs.count, by: 4).map { logs[$0] }
                for index in 1...appendsPerLog {
                    for log in mine {
                        durable.enter()
                        do {
                            try log.append(makeEntries(from: UInt64(index), count: 1, term: 1)) { result in
                                if case .failure = result { failures.increment() }
                                if log.statistics.durableAppends < UInt64(index) { earlyCompletions.increment() }
                                durable.leave()
                            }
                        } catch {
                            failures.increment()
                            durable.leave()
                        }
                    }
                }
                submitted.leave()
            }.start()
        }
        XCTAssertEqual(submitted.wait(timeout: .now() + 60), .success)
        XCTAssertEqual(durable.wait(timeout: .now() + 60), .success, "an append never became durable")
        XCTAssertEqual(failures.value, 0)
        XCTAssertEqual(earlyCompletions.value, 0, "an append was reported durable before a sync covered it")
        for log in logs {
            let statistics = log.statistics
            XCTAssertEqual(statistics.durableAppends, UInt64(appendsPerLog))
            XCTAssertGreaterThanOrEqual(statistics.dataSyncs, 1)
            XCTAssertLessThanOrEqual(statistics.dataSyncs, UInt64(appendsPerLog))
            try log.close()
        }
        workers.stop()
        for partition in 0..<16 {
            let reopened = try PartitionLog.open(directory: directory.path + "/p\(partition)", partition: PartitionID(UInt32(partition)),
                                                 options: options(segmentBytesMax: 1 << 20), logger: quietLogger)
            XCTAssertEqual(try reopened.allEntries(), makeEntries(from: 1, count: appendsPerLog, term: 1))
            try reopened.close()
        }
    }

    /// While the only worker is held inside a sync of one log, appends to that log and to a
    /// second one wait; none is reported durable early. Released, the held log's later
    /// appends share one more sync and the second log gets its own: all complete.
    func testAppendsWaitingWhileTheWorkerIsBusyShareTheNextSync() throws {
        let directory = TemporaryDirectory()
        let workers = SyncWorkers(threads: 1, name: "test-sync")
        let first = try PartitionLog.open(directory: directory.path + "/a", partition: 0, options: options(),
                                          syncWorkers: workers, logger: quietLogger)
        let second = try PartitionLog.open(directory: directory.path + "/b", partition: 1, options: options(),
                                           syncWorkers: workers, logger: quietLogger)
        let gate = DispatchSemaphore(value: 0)
        first.setSyncGateForTesting(gate)
        let durable = DispatchGroup()
        durable.enter()
        try first.append(makeEntries(from: 1, count: 1, term: 1)) { _ in durable.leave() }
        // Wait until the worker has taken that append and is held at the gate.
        let deadline = Date().addingTimeInterval(10)
        while workers.queuedCount > 0 || first.statistics.durableAppends > 0, Date() < deadline { usleep(1_000) }
        usleep(20_000)
        for index in 2...20 {
            durable.enter()
            try first.append(makeEntries(from: UInt64(index), count: 1, term: 1)) { _ in durable.leave() }
        }
        durable.enter()
        try second.append(makeEntries(from: 1, count: 1, term: 1)) { _ in durable.leave() }
        XCTAssertEqual(first.statistics.durableAppends + second.statistics.durableAppends, 0,
                       "nothing may be durable while the worker is held")
        first.setSyncGateForTesting(nil)
        gate.signal()
        XCTAssertEqual(durable.wait(timeout: .now() + 30), .success)
        XCTAssertEqual(first.statistics.durableAppends, 20)
        XCTAssertLessThanOrEqual(first.statistics.dataSyncs, 2, "the 19 appends made during the held sync share one")
        XCTAssertEqual(second.statistics.durableAppends, 1)
        try first.close()
        try second.close()
        workers.stop()
    }

    /// Closing a log that shares workers syncs and completes what still waits, and later
    /// appends are refused; stopping the workers afterwards returns.
    func testClosingALogOnSharedWorkersCompletesWhatWaits() throws {
        let directory = TemporaryDirectory()
        let workers = SyncWorkers(threads: 1, name: "test-sync")
        let log = try PartitionLog.open(directory: directory.path, partition: 0, options: options(),
                                        syncWorkers: workers, logger: quietLogger)
        let failures = ResultCounter()
        let durable = DispatchGroup()
        for index in 1...30 {
            durable.enter()
            try log.append(makeEntries(from: UInt64(index), count: 1, term: 1)) { result in
                if case .failure = result { failures.increment() }
                durable.leave()
            }
        }
        try log.close()
        XCTAssertEqual(durable.wait(timeout: .now() + 30), .success, "close left appends without an answer")
        XCTAssertEqual(failures.value, 0)
        XCTAssertThrowsError(try log.append(makeEntries(from: 31, count: 1, term: 1)) { _ in })
        workers.stop()
        let reopened = try PartitionLog.open(directory: directory.path, partition: 0, options: options(), logger: quietLogger)
        XCTAssertEqual(reopened.lastIndex, 30)
        try reopened.close()
    }
}

