import CartTLS
import Foundation
import XCTest

/// `tools/gen-certs`, the development PKI tool: idempotent, growable, and its output is what
/// the TLS layer accepts.
final class GenCertsToolTests: XCTestCase {
    static let tool = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("tools/gen-certs").path

    // Running the tool again keeps every existing file byte for byte; asking for more nodes
    // adds only the new node, signed by the same CA; keys are private to the owner.
    func testRerunKeepsExistingFilesAndAddsOnlyMissingNodes() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gen-certs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        func run(_ arguments: [String]) throws -> ProcessResult {
            let result = try runProcess(Self.tool, ["--out", directory.path] + arguments, timeoutSeconds: 60)
            XCTAssertEqual(result.status, 0, result.stderr)
            return result
        }
        func contents(_ name: String) throws -> Data {
            try Data(contentsOf: directory.appendingPathComponent(name))
        }

        _ = try run(["--nodes", "2"])
        let before = try ["ca.pem", "ca.key", "node-1.pem", "node-1.key", "node-2.pem", "client.pem"].map(contents)
        let rerun = try run(["--nodes", "3"])
        XCTAssertEqual(rerun.stdout, "created \(directory.path)/node-3.pem\n")
        let after = try ["ca.pem", "ca.key", "node-1.pem", "node-1.key", "node-2.pem", "client.pem"].map(contents)
        XCTAssertEqual(before, after)

        let verify = try runProcess(TLSInteropTests.openssl, [
            "verify", "-CAfile", directory.appendingPathComponent("ca.pem").path,
            directory.appendingPathComponent("node-3.pem").path,
        ], timeoutSeconds: 30)
        XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)

        let keyMode = try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("node-3.key").path)[.posixPermissions] as? Int
        XCTAssertEqual(keyMode, 0o600)
        XCTAssertNoThrow(try TLSContext(configuration: .mutualTLS(
            certificateChainPath: directory.appendingPathComponent("node-3.pem").path,
            privateKeyPath: directory.appendingPathComponent("node-3.key").path,
            trustedCAPath: directory.appendingPathComponent("ca.pem").path)))
    }

    func testUnknownArgumentIsRefused() throws {
        let result = try runProcess(Self.tool, ["--bogus"], timeoutSeconds: 30)
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("unknown argument"), result.stderr)
    }
}
