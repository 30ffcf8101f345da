import CartAPI
import CartDomain
@testable import CartNode
import CartTestSupport
import CartTypes
import Foundation
import Logging
import XCTest

/// The node journal across restarts (`storageJournal`, `cartd --journal/--no-journal`).
final class JournalStartupTests: XCTestCase {
    // A node crashed with acknowledged appends in its journal (simulated by putting back a
    // copy of the journal taken while it ran). Started without the journal it refuses, naming
    // the journal, instead of serving partition files that may lack those appends; started
    // with it, it replays them (here over partition files that already hold them, which must
    // change nothing) and serves the cart as it was. Losing appends the files lack is covered
    // by CartStorage's NodeJournalTests.
    func testJournalLeftByACrashIsReplayedAndNoJournalStartRefusesIt() async throws {
        let cluster = try TestCluster(size: 1)
        let data = cluster.configuration(1).dataDirectory
        let journal = data + "/journal"
        let copy = data + "-journal-copy"
        try await cluster.startAll()
        do {
            try await cluster.waitForLeaders()
            let alice = try cluster.client(1, as: "alice")
            _ = try await alice.call(.cartCreate, CreateCartRequest(cart: "cart-j", request: Keys.next()))
            _ = try await alice.call(.itemPut, PutItemRequest(item: "sku-1", name: "Tea", price: Money(minorUnits: 300),
                                                              initialStock: 10, request: Keys.next()))
            _ = try await alice.call(.cartAddItem, AddItemRequest(cart: "cart-j", item: "sku-1", quantity: 2, request: Keys.next()))
            try FileManager.default.copyItem(atPath: journal, toPath: copy)
            await cluster.stop(1)
            try FileManager.default.removeItem(atPath: journal)
            try FileManager.default.moveItem(atPath: copy, toPath: journal)

            var withoutJournal = cluster.configuration(1)
            withoutJournal.storageJournal = false
            let refusing = CartNode(configuration: withoutJournal, logger: Logger(label: "test"))
            do {
                try await refusing.start()
                XCTFail("a node without the journal started on a data directory holding one")
            } catch let error as NodeError {
                XCTAssertTrue("\(error)".contains("journal"), "\(error)")
            }
            await refusing.shutdown()

            try await cluster.start(1)
            try await cluster.waitForLeaders()
            let again = try cluster.client(1, as: "alice")
            let cart = try await again.call(.cartGet, GetCartRequest(cart: "cart-j")).cart
            XCTAssertEqual(cart.lines, [CartLine(item: "sku-1", quantity: 2, unitPrice: Money(minorUnits: 300))])
        } catch {
            await cluster.shutdown()
            try? FileManager.default.removeItem(atPath: copy)
            throw error
        }
        await cluster.shutdown()
        try? FileManager.default.removeItem(atPath: copy)
    }
}
