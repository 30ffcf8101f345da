import Foundation
import XCTest

/// `cartd` runs its threads under `SCHED_BATCH` by default; `--no-batch-scheduling` keeps the
/// normal policy: read back from `/proc/<pid>/task/<tid>/stat` (field 41, the policy: 0
/// normal, 3 batch) of a real process, every thread it has once it serves.
final class SchedulingTests: XCTestCase {
    func testByDefaultEveryThreadOfANodeRunsUnderSchedBatch() throws {
        XCTAssertEqual(try Self.policiesOfOneNode(extraArguments: []), [3], "SCHED_BATCH on every thread")
        XCTAssertEqual(try Self.policiesOfOneNode(extraArguments: ["--batch-scheduling"]), [3], "SCHED_BATCH on every thread")
    }

    func testNoBatchSchedulingKeepsTheNormalPolicyOnEveryThread() throws {
        XCTAssertEqual(try Self.policiesOfOneNode(extraArguments: ["--no-batch-scheduling"]), [0], "SCHED_OTHER on every thread")
    }

    /// The distinct policies of a one-node cluster's threads, with more than one thread seen.
    private static func policiesOfOneNode(extraArguments: [String]) throws -> Set<Int> {
        let cluster = try LocalCluster(nodes: 1, extraArguments: extraArguments)
        defer { cluster.stopAll() }
        try cluster.start(1)
        let pid = try XCTUnwrap(cluster.pid(of: 1))
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
        XCTAssertGreaterThan(tasks.count, 2, "an event loop, the journal and the process's own threads")
        var policies = Set<Int>()
        for task in tasks {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/stat", encoding: .utf8) else { continue }
            // After the command name (in parentheses, which may hold spaces), fields 3 on.
            let fields = stat[stat.index(after: try XCTUnwrap(stat.lastIndex(of: ")")))...].split(separator: " ")
            policies.insert(try XCTUnwrap(Int(fields[41 - 3])))
        }
        return policies
    }
}
