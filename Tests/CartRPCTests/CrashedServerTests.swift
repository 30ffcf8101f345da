import CartRPC
import CartTestSupport
import CartWire
import Foundation
import XCTest

/// A server process that dies, as a real one does: the client's connection is reset with no
/// go-away.
final class CrashedServerTests: XCTestCase {
    // Story: a client holds an idle connection to an RPC server process (`cartload
    // serve-echo`), which is then killed with SIGKILL. No call is open, yet the reset marks
    // the endpoint unreachable, so a cluster client sends its next request to another node
    // (and probes this one in the background) instead of connecting to a node that may be
    // restarting and waiting for its connect timeout.
    func testAServerProcessKilledUnderAnIdleConnectionMarksItsEndpointUnreachable() async throws {
        let server = Process()
        server.executableURL = builtExecutable("cartload")
        server.arguments = ["serve-echo", "--no-tls", "--port", "0", "--threads", "1"]
        let output = Pipe()
        server.standardOutput = output
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer {
            if server.isRunning { kill(server.processIdentifier, SIGKILL) }
            server.waitUntilExit()
        }
        let port = try Self.listeningPort(output)  // it prints this at once, or exits

        let client = RPCClient(configuration: RPCClientConfiguration(port: port, security: .plaintext, identity: "crash-test"))
        _ = try await client.call(.echo, bytes("hello"), timeout: .seconds(5))
        XCTAssertNil(client.unreachableSince)

        kill(server.processIdentifier, SIGKILL)
        server.waitUntilExit()
        try await eventually(10, "the reset marked the endpoint unreachable") { client.unreachableSince != nil }
        await client.shutdown()
    }

    /// Reads serve-echo's output up to `listening on 127.0.0.1:<port>`.
    static func listeningPort(_ pipe: Pipe) throws -> Int {
        var text = ""
        while true {
            let chunk = pipe.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw TestFailure("serve-echo exited before listening: \(text)") }
            text += String(decoding: chunk, as: UTF8.self)
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }),
               let port = line.split(separator: ":").last.flatMap({ Int($0.prefix { $0.isNumber }) }) {
                return port
            }
        }
    }
}
