import CartDomain
import Foundation
import XCTest

/// The error-code table in the module README is read by this test, so the documented codes
/// and the code cannot drift apart.
final class ErrorCodeTableTests: XCTestCase {
    func testTheReadmeTableListsEveryErrorWithItsCodeAndCategory() throws {
        let readme = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/CartDomain/README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        var rows: [UInt16: (name: String, category: String)] = [:]
        for line in text.split(separator: "\n") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 3, let code = UInt16(cells[0]) else { continue }
            rows[code] = (String(cells[1].prefix { $0 != "(" }), cells[2])
        }
        XCTAssertEqual(rows.count, 30)
        for error in EveryCommandScenario.allErrors {
            // Mirror names the case through its payload; the two cases without one are named directly.
            let name = Mirror(reflecting: error).children.first?.label ?? (error == .cartEmpty ? "cartEmpty" : "amountOverflow")
            XCTAssertEqual(rows[error.code]?.name, name, "code \(error.code)")
            XCTAssertEqual(rows[error.code]?.category, "\(error.category)", "code \(error.code)")
        }
    }
}
