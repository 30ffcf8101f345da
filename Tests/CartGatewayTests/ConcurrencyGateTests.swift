import CartTypes
import XCTest
@testable import CartGateway

/// Envoy-style caps per peer: active slots, a bounded waiting line, overflow beyond it.
final class ConcurrencyGateTests: XCTestCase {
    private func gate(active: Int, pending: Int) throws -> ConcurrencyGate {
        ConcurrencyGate(limits: try .init(activeRequestsMax: active, pendingRequestsMax: pending))
    }

    /// Two calls go out, two wait, the fifth is refused at once with the current load.
    func testCallsBeyondActiveWaitAndBeyondPendingOverflow() throws {
        var gate = try gate(active: 2, pending: 2)
        guard case .active = gate.admit(), case .active = gate.admit() else { return XCTFail("first two must go out") }
        guard case .pending = gate.admit(), case .pending = gate.admit() else { return XCTFail("next two must wait") }
        XCTAssertEqual(gate.admit(), .overflow(active: 2, pending: 2))
        XCTAssertEqual(gate.active, 2)
        XCTAssertEqual(gate.pendingCount, 2)
    }

    /// Completions hand the freed slot to the waiting calls first come, first served; when
    /// nobody waits, the slot is simply freed.
    func testCompletionPromotesTheOldestWaitingCall() throws {
        var gate = try gate(active: 1, pending: 2)
        guard case .active(let first) = gate.admit(),
              case .pending(let second) = gate.admit(),
              case .pending(let third) = gate.admit() else { return XCTFail("unexpected admission") }
        XCTAssertEqual(gate.complete(first), second)
        XCTAssertEqual(gate.complete(second), third)
        XCTAssertEqual(gate.active, 1)
        XCTAssertNil(gate.complete(third))
        XCTAssertEqual(gate.active, 0)
        guard case .active = gate.admit() else { return XCTFail("a free slot must admit at once") }
    }

    /// A waiting call whose deadline passes withdraws; it is never promoted, and a promoted
    /// call cannot be withdrawn (it must complete instead).
    func testCancelledWaitingCallIsNeverPromoted() throws {
        var gate = try gate(active: 1, pending: 3)
        guard case .active(let first) = gate.admit(),
              case .pending(let second) = gate.admit(),
              case .pending(let third) = gate.admit() else { return XCTFail("unexpected admission") }
        XCTAssertTrue(gate.cancel(second))
        XCTAssertFalse(gate.cancel(second))
        XCTAssertEqual(gate.complete(first), third)
        XCTAssertFalse(gate.cancel(third))
        XCTAssertEqual(gate.pendingCount, 0)
    }

    /// With no waiting line at all, everything beyond the active slots overflows; many
    /// rounds of admit/complete keep the counts exact (the waiting line compacts itself).
    func testLongRunKeepsCountsExact() throws {
        var zeroPending = try gate(active: 1, pending: 0)
        _ = zeroPending.admit()
        XCTAssertEqual(zeroPending.admit(), .overflow(active: 1, pending: 0))

        var gate = try gate(active: 4, pending: 8)
        var running: [AdmissionPermit] = []
        for _ in 0..<12 {
            switch gate.admit() {
            case .active(let permit): running.append(permit)
            case .pending: break
            case .overflow: XCTFail("no overflow within the limits")
            }
        }
        for _ in 0..<10_000 {
            let done = running.removeFirst()
            if let promoted = gate.complete(done) { running.append(promoted) }
            if case .pending = gate.admit() {} else { XCTFail("the line had room for exactly one") }
            XCTAssertEqual(gate.active, 4)
            XCTAssertEqual(gate.pendingCount, 8)
        }
    }

    /// The per-peer registry keeps peers apart: a slow n2 filling its caps leaves n3 free.
    func testPeersHaveSeparateCaps() throws {
        let admission = PeerAdmission(limits: try .init(activeRequestsMax: 1, pendingRequestsMax: 0))
        guard case .active(let permit) = admission.admit(peer: 2) else { return XCTFail() }
        XCTAssertEqual(admission.admit(peer: 2), .overflow(active: 1, pending: 0))
        guard case .active = admission.admit(peer: 3) else { return XCTFail("n3 must not share n2's cap") }
        XCTAssertNil(admission.complete(peer: 2, permit))
        XCTAssertEqual(admission.load(of: 2).active, 0)
        XCTAssertNotNil(thrownError { () throws(AdmissionConfigurationError) in try ConcurrencyGate.Limits(activeRequestsMax: 0, pendingRequestsMax: 0) })
    }
}
