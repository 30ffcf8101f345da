import CartDomain
import CartTypes
import XCTest

/// A partition state plus a clock that advances 1 ms per command, so tests read as a list
/// of commands and the expected outcome of each.
struct DomainFixture {
    var state: PartitionState
    var nowMs: Int64 = 1_700_000_000_000

    init(limits: DomainLimits = .standard) {
        state = PartitionState(limits: limits)
    }

    @discardableResult
    mutating func run(_ command: Command, request: RequestKey? = nil) -> Result<[Event], DomainError> {
        nowMs += 1
        return state.apply(command, at: Timestamp(millisecondsSinceEpoch: nowMs), request: request)
    }

    /// Runs a command that must succeed and returns its events.
    @discardableResult
    mutating func accept(_ command: Command, request: RequestKey? = nil,
                         file: StaticString = #filePath, line: UInt = #line) -> [Event] {
        switch run(command, request: request) {
        case .success(let events): return events
        case .failure(let error):
            XCTFail("expected \(command) to be accepted, got \(error)", file: file, line: line)
            return []
        }
    }

    /// Runs a command that must be refused with `expected`, and checks it changed nothing.
    mutating func refuse(_ command: Command, with expected: DomainError, request: RequestKey? = nil,
                         file: StaticString = #filePath, line: UInt = #line) {
        let before = state
        switch run(command, request: request) {
        case .success(let events):
            XCTFail("expected \(expected), got events \(events.map(\.name))", file: file, line: line)
        case .failure(let error):
            XCTAssertEqual(error, expected, file: file, line: line)
            if request == nil { XCTAssertEqual(state, before, "a refused command changes nothing", file: file, line: line) }
        }
    }

    func cart(_ id: CartID) -> Cart { state.carts[id]! }
    func item(_ id: ItemID) -> Item { state.items[id]! }

    // MARK: Common setups

    /// alice's cart "c1" with `items` (1 unit each at 100 minor units).
    mutating func cartOfAlice(_ cart: CartID = "c1", items: [ItemID] = []) {
        accept(.createCart(CreateCart(cart: cart, owner: "alice")))
        for item in items {
            accept(.addItem(AddItem(cart: cart, actor: "alice", item: item, quantity: 1, unitPrice: Money(minorUnits: 100))))
        }
    }

    mutating func catalogue(_ stock: [ItemID: Int64]) {
        for id in stock.keys.sorted() {
            accept(.putItem(PutItem(item: id, name: "Item \(id)", price: Money(minorUnits: 100), initialStock: stock[id]!)))
        }
    }
}

/// Sorted-key JSON snapshots, for the one test that edits a snapshot's encoded form by text
/// (fields without public setters). The node and every other test use `BinarySnapshotCodec`.
struct JSONSnapshotCodec: SnapshotCodec {
    func encode(_ snapshot: PartitionSnapshot) throws(SnapshotError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do { return Array(try encoder.encode(snapshot)) } catch {
            throw SnapshotError(.unencodable, "\(error)")
        }
    }

    func decode(_ bytes: [UInt8]) throws(SnapshotError) -> PartitionSnapshot {
        do { return try JSONDecoder().decode(PartitionSnapshot.self, from: Data(bytes)) } catch {
            throw SnapshotError(.undecodable, "\(error)")
        }
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
