import CartWire
import Foundation
import XCTest

/// The error-code table in PROTOCOL.md §11 is what other implementations read; it must list
/// exactly the codes the code defines, with the same numbers, names and retry advice.
final class ErrorCodeTests: XCTestCase {
    func testSpecErrorTableMatchesErrorCodes() throws {
        let spec = try String(contentsOf: VectorFiles.directory.deletingLastPathComponent().appendingPathComponent("PROTOCOL.md"),
                              encoding: .utf8)
        var rows: [(UInt16, String, Bool)] = []
        for line in spec.split(separator: "\n") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 4, let number = UInt16(cells[0]), ["yes", "no"].contains(cells[2]) else { continue }
            rows.append((number, cells[1], cells[2] == "yes"))
        }
        XCTAssertEqual(rows.map(\.0), ErrorCode.known.map(\.rawValue), "codes in PROTOCOL.md §11")
        for (number, name, retryable) in rows {
            let code = ErrorCode(number)
            XCTAssertEqual(code.name, name, "code \(number)")
            XCTAssertEqual(code.isRetryable, retryable, "retry advice for \(name)")
        }
    }

    // A code from a newer peer survives decoding and keeps its number for logs.
    func testUnknownCodeFromANewerPeerIsKeptAndNotRetried() throws {
        let payload = ErrorPayload(code: ErrorCode(999), message: "from the future")
        let decoded = try BinaryDecoder().decode(ErrorPayload.self, from: try BinaryEncoder().encode(payload))
        XCTAssertEqual(decoded.code.rawValue, 999)
        XCTAssertEqual(decoded.code.name, "code999")
        XCTAssertFalse(decoded.isRetryable)
    }

    // Hello negotiation picks the highest common version, or none.
    func testVersionNegotiationPicksHighestCommonVersion() {
        XCTAssertEqual(Hello.negotiate(offered: [1, 2], supported: [1]), 1)
        XCTAssertEqual(Hello.negotiate(offered: [1, 2, 3], supported: [2, 3, 4]), 3)
        XCTAssertNil(Hello.negotiate(offered: [2], supported: [1]))
    }

    func testCatalogueHoldsBuiltinsAndRegisteredServices() {
        let catalogue = MethodCatalogue([MethodDescriptor(id: MethodID.serviceFirst, name: "Cart.get", kind: .unary)])
        XCTAssertEqual(catalogue.method(.echo)?.name, "Builtin.echo")
        XCTAssertEqual(catalogue.method(named: "Builtin.echoStream")?.kind, .serverStream)
        XCTAssertEqual(catalogue.method(named: "Cart.get")?.id, MethodID(100))
        XCTAssertNil(catalogue.method(MethodID(4242)))
        XCTAssertEqual(catalogue.all.map(\.id.rawValue), [1, 2, 100])
    }
}
