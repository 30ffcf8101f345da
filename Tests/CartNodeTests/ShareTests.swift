import CartAPI
import CartDomain
@testable import CartNode
import CartRPC
import CartTestSupport
import CartTypes
import XCTest

/// Sharing a cart with registered users only.
final class ShareTests: XCTestCase {
    // Three nodes with real logins. Alice shares her cart with a name nobody registered,
    // through each node (so the user's partition is read at its leader, forwarded where that
    // is another node): every attempt is refused with `notFound` naming the user, and the cart
    // has not changed (same version, no event). A share naming bob and the unknown name is
    // refused as a whole. Sharing with bob alone then works.
    func testSharingWithAUserNobodyRegisteredIsRefusedAndChangesNothing() async throws {
        let cluster = try TestCluster(size: 3) { $0.devIdentities = false }
        try await cluster.startAll()
        do {
            try await cluster.waitForLeaders()
            let anonymous = try cluster.client(1, as: nil)
            for user in ["alice", "bob"] {
                _ = try await anonymous.call(.userRegister, RegisterUserRequest(user: UserID(user), password: "secret-\(user)",
                                                                                request: Keys.next()))
            }
            let login = try await anonymous.call(.userLogin, LoginRequest(user: "alice", password: "secret-alice"))
            let alice = try (1...3).map { try cluster.client(NodeID(UInt64($0)), as: nil, token: login.token) }
            let created = try await alice[0].call(.cartCreate, CreateCartRequest(cart: "typo", request: Keys.next()))

            for client in alice {
                let refused = await assertRPCError(.notFound) {
                    try await client.call(.cartShare, ShareCartRequest(cart: "typo", users: ["bbob"], request: Keys.next()))
                }
                XCTAssertTrue(refused?.message.contains("bbob") == true, "\(String(describing: refused))")
            }
            await assertRPCError(.notFound) {
                try await alice[1].call(.cartShare, ShareCartRequest(cart: "typo", users: ["bob", "bbob"], request: Keys.next()))
            }
            let unchanged = try await alice[2].call(.cartGet, GetCartRequest(cart: "typo")).cart
            XCTAssertEqual(unchanged.version, created.version)
            XCTAssertEqual(unchanged.sharedUsers, [])
            let events = try await alice[0].call(.cartEvents, CartEventsRequest(cart: "typo", fromSeq: Seq(1), eventsMax: 100)).events
            XCTAssertEqual(events.map(\.change.name), ["CartCreated"])

            let shared = try await alice[2].call(.cartShare, ShareCartRequest(cart: "typo", users: ["bob"], request: Keys.next()))
            XCTAssertGreaterThan(shared.version, created.version)
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }
}
