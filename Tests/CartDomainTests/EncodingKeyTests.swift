import CartDomain
import CartTypes
import XCTest

/// Every command, event, error and snapshot encodes with integer field numbers only, as the
/// wire's binary encoding requires.
final class EncodingKeyTests: XCTestCase {
    // A partition that has seen every kind of command (accepted and refused, with request
    // keys) produces a snapshot, events and errors whose every key is numbered.
    func testEveryEncodedKeyHasAnIntegerFieldNumber() {
        let (state, envelopes, events) = EveryCommandScenario.run()
        XCTAssertEqual(Set(events.map(\.name)).count, 17, "every event kind but CartCheckoutAborted was produced")

        let audit = IntegerKeyAudit()
        _ = audit.audit(state.snapshot())
        _ = audit.audit(envelopes)
        _ = audit.audit(events)
        _ = audit.audit(Event.cart(CartEvent(cart: "c", seq: 1, version: 1, timestamp: .zero,
                                             change: .checkoutAborted(CartCheckoutAborted(checkout: "k", reason: "r")))))
        let errors = EveryCommandScenario.allErrors
        XCTAssertEqual(Set(errors.map(\.code)).count, 30, "codes are unique")
        XCTAssertEqual(audit.audit(errors), [])
    }

    // The audit itself can fail: a type with synthesized string keys is reported by path.
    func testTheAuditReportsStringKeys() {
        struct Named: Encodable { let name: String; let inner: Inner }
        struct Inner: Encodable { let count: Int }
        XCTAssertEqual(IntegerKeyAudit().audit(Named(name: "x", inner: Inner(count: 1))), ["name", "inner", "inner.count"])
    }
}

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
