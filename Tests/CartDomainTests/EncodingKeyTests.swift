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
        XCTAssertEqual(Set(events.map(\.name)).count, 18, "every event kind but CartCheckoutAborted was produced")

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
