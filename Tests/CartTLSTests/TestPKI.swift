import Foundation
import XCTest

/// A fresh PKI in a temp directory for one test class, made by `make-test-pki` (which runs
/// the real `tools/gen-certs`). Tests never read `certs/`.
///
/// `CARTTLS_TEST_PKI=<dir>` uses a PKI made beforehand by `make-test-pki <dir>` instead, for
/// runs under valgrind, where Foundation's `Process` cannot spawn children.
final class TestPKI: @unchecked Sendable {
    let directory: URL
    private let isOwned: Bool

    init() throws {
        if let existing = ProcessInfo.processInfo.environment["CARTTLS_TEST_PKI"] {
            directory = URL(fileURLWithPath: existing)
            isOwned = false
            return
        }
        isOwned = true
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("carttls-pki-\(UUID().uuidString)")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("make-test-pki")
        let result = try runProcess(script.path, [directory.path], timeoutSeconds: 60)
        guard result.status == 0 else {
            throw TestFailure("make-test-pki failed (\(result.status)): \(result.stderr)")
        }
    }

    func path(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }

    var caPath: String { path("ca.pem") }

    func remove() {
        guard isOwned else { return }
        try? FileManager.default.removeItem(at: directory)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

struct ProcessResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs a process to completion, killing it by pid if it outlives `timeoutSeconds`.
func runProcess(_ executable: String, _ arguments: [String], stdin: String? = nil, timeoutSeconds: Double) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe(), errors = Pipe(), input = Pipe()
    process.standardOutput = output
    process.standardError = errors
    process.standardInput = input
    try process.run()
    let pid = process.processIdentifier
    let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeoutSeconds, execute: watchdog)
    defer { watchdog.cancel() }
    if let stdin {
        input.fileHandleForWriting.write(Data(stdin.utf8))
    }
    try? input.fileHandleForWriting.close()
    // Read both pipes concurrently so neither can fill up and stall the child.
    let errorData = LockedData()
    let errorReader = Thread { errorData.set(errors.fileHandleForReading.readDataToEndOfFile()) }
    errorReader.start()
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    while !errorData.isSet { usleep(1_000) }
    return ProcessResult(
        status: process.terminationStatus,
        stdout: String(decoding: outputData, as: UTF8.self),
        stderr: String(decoding: errorData.get(), as: UTF8.self)
    )
}

final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data: Data?
    func set(_ value: Data) { lock.withLock { data = value } }
    func get() -> Data { lock.withLock { data ?? Data() } }
    var isSet: Bool { lock.withLock { data != nil } }
}
