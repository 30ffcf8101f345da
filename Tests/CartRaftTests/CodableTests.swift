import CartRaft
import CartTypes
import Foundation
import XCTest

/// Every message, entry, state and error survives an encode/decode round trip, so the
/// wire can carry them with any `Codable` encoder.
final class CodableTests: XCTestCase {
    func testMessageWithEntriesAndSnapshotRoundTrips() throws {
        var message = Message(kind: .append, from: 1, to: 2, term: 7)
        message.index = 4
        message.logTerm = 6
        message.entries = [Entry(term: 7, index: 5, data: [1, 2, 3])]
        message.commit = 4
        message.snapshot = Snapshot(
            metadata: SnapshotMetadata(index: 3, term: 5, configuration: Configuration(voters: [1, 2, 3])),
            data: [9])
        message.reject = true
        message.rejectHint = 2
        message.context = [8]
        message.leadershipTransfer = true
        XCTAssertEqual(try roundTrip(message), message)
    }

    func testHardStateReadStateAndErrorsRoundTrip() throws {
        XCTAssertEqual(try roundTrip(HardState(term: 3, vote: 2, commit: 9)), HardState(term: 3, vote: 2, commit: 9))
        XCTAssertEqual(try roundTrip(ReadState(index: 4, context: [1])), ReadState(index: 4, context: [1]))
        let errors: [RaftError] = [
            .notLeader(leaderHint: 3), .proposalDropped, .transferInProgress,
            .proposalTooLarge(bytes: 10, bytesMax: 5), .readIndexDropped,
            .transferTargetInvalid(target: 4), .malformedMessage(reason: "gap"),
        ]
        for error in errors { XCTAssertEqual(try roundTrip(error), error) }
        XCTAssertEqual(Set(errors.map(\.code)).count, errors.count, "codes are distinct")
    }

    private func roundTrip<T: Codable>(_ value: T) throws -> T {
        try JSONDecoder().decode(T.self, from: JSONEncoder().encode(value))
    }
}
