import CartAPI
import Foundation
import XCTest

/// proto-spec/SERVICES.md names every method the nodes serve, with its id, so a client
/// written from the spec reaches every one.
final class SpecCatalogueTests: XCTestCase {
    func testEveryMethodOfTheCatalogueIsInTheSpecWithItsId() throws {
        let spec = try String(contentsOf: URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("proto-spec/SERVICES.md"), encoding: .utf8)
        for method in CartAPI.clientMethods + CartAPI.peerMethods {
            let row = String(format: "| `0x%04X` | `%@`", method.id.rawValue, method.name)
            XCTAssertTrue(spec.contains(row), "SERVICES.md lacks the row \(row)")
        }
    }
}
