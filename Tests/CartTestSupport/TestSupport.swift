import CartRPC
import CartWire
import Foundation
import XCTest

/// A test precondition that did not hold, with a readable reason.
public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Makes a throwaway PKI for `nodes` nodes with the real `tools/gen-certs` in a new temp
/// directory, and returns the directory (`ca.pem`, `node-i.pem`/`.key`, client certificate).
/// The directory is removed when the test process exits.
public func makeTestPKI(nodes: Int, prefix: String) throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    TestPKIDirectories.removeAtExit(directory)
    let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let process = Process()
    process.executableURL = repo.appendingPathComponent("tools/gen-certs")
    process.arguments = ["--out", directory.path, "--nodes", String(nodes)]
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw TestFailure("gen-certs failed with \(process.terminationStatus)") }
    return directory
}

/// The PKI directories of this test process, removed when it exits: they are shared by
/// the process's tests (built once, lazily), so no single test can remove them.
private enum TestPKIDirectories {
    nonisolated(unsafe) static var paths: [String] = []
    static let lock = NSLock()
    static let registerExitHandler: Void = {
        atexit {
            TestPKIDirectories.lock.lock()
            defer { TestPKIDirectories.lock.unlock() }
            for path in TestPKIDirectories.paths { try? FileManager.default.removeItem(atPath: path) }
        }
    }()

    static func removeAtExit(_ directory: URL) {
        _ = registerExitHandler
        lock.lock()
        defer { lock.unlock() }
        paths.append(directory.path)
    }
}

/// Polls `condition` every 10 ms for at most `seconds`.
public func eventually(_ seconds: Double = 10, _ what: String,
                       _ condition: @Sendable () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw TestFailure("\(what) did not happen within \(seconds) s") }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// Repeats `call` every 10 ms until it is refused with an `RPCError` that `matches`, for at
/// most `seconds`, and returns that refusal. Other refusals are waited through. An answer
/// fails the test, unless `answersFirst` says answers may come before the refusal (a copy
/// served until it goes stale).
@discardableResult
public func eventuallyRefused<T>(_ seconds: Double = 10, _ what: String, answersFirst: Bool = false,
                                 _ call: @Sendable () async throws -> T,
                                 matching matches: @Sendable (RPCError) -> Bool) async throws -> RPCError {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while true {
        do {
            _ = try await call()
            if !answersFirst { throw TestFailure("\(what): the call was answered") }
        } catch let error as RPCError {
            if matches(error) { return error }
        }
        guard ContinuousClock.now < deadline else { throw TestFailure("\(what) did not happen within \(seconds) s") }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// Asserts that `body` throws an `RPCError` with `code`, and returns it.
@discardableResult
public func assertRPCError<T>(_ code: ErrorCode, file: StaticString = #filePath, line: UInt = #line,
                              _ body: () async throws -> T) async -> RPCError? {
    do {
        _ = try await body()
        XCTFail("expected \(code), got a result", file: file, line: line)
    } catch let error as RPCError {
        XCTAssertEqual(error.code, code, "\(error)", file: file, line: line)
        return error
    } catch {
        XCTFail("expected RPCError \(code), got \(error)", file: file, line: line)
    }
    return nil
}

/// An executable of the same build as the running tests (`cartd`, `cartload`): next to the
/// test binary, else in `.build/debug`.
public func builtExecutable(_ name: String) -> URL {
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        directory = directory.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/\(name)")
}
