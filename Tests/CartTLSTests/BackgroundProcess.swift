import Foundation

/// A child process (here: `openssl s_server`) running beside a test. It is killed by pid when
/// the test is done, and after `lifetimeSeconds` at the latest, so a stuck peer cannot hang CI.
final class BackgroundProcess: @unchecked Sendable {
    private let process = Process()
    private let output = Pipe()
    private let lock = NSLock()
    private var captured = ""
    private var reader: Thread?

    init(_ executable: String, _ arguments: [String], lifetimeSeconds: Double = 60) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = output
        process.standardInput = Pipe()
        try process.run()
        let pid = process.processIdentifier
        DispatchQueue.global().asyncAfter(deadline: .now() + lifetimeSeconds) { kill(pid, SIGKILL) }
        let handle = output.fileHandleForReading
        reader = Thread { [self] in
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                lock.withLock { captured += String(decoding: data, as: UTF8.self) }
            }
        }
        reader?.start()
    }

    /// Everything the process printed so far (stdout and stderr).
    var outputSoFar: String { lock.withLock { captured } }

    /// Waits until the output contains a line starting with `prefix` and returns that line.
    func waitForLine(startingWith prefix: String, within seconds: Double = 20) throws -> String {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while Date() < deadline {
            let lines = outputSoFar.split(separator: "\n")
            if let line = lines.first(where: { $0.hasPrefix(prefix) }) { return String(line) }
            guard process.isRunning else { break }
            usleep(10_000)
        }
        throw TestFailure("no line starting with '\(prefix)' from \(process.executableURL!.path); output: \(outputSoFar)")
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}
