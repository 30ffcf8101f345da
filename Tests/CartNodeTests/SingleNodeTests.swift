import CartAPI
import CartDomain
@testable import CartNode
import CartRPC
import CartTestSupport
import CartTypes
import CartWire
import NIOConcurrencyHelpers
import NIOPosix
import Dispatch
import XCTest

/// One node, every partition local: the services end to end over TLS.
final class SingleNodeTests: XCTestCase {
    // Alice creates a cart, puts an item in the catalogue, adds it twice, reads the cart
    // back and watches it: the watch replays the three events and then delivers a live add.
    func testSingleNodeServesCreateAddGetAndWatch() async throws {
        let cluster = try TestCluster(size: 1)
        try await cluster.startAll()
        do {
            try await cluster.waitForLeaders()
            let alice = try cluster.client(1, as: "alice")
            let created = try await alice.call(.cartCreate, CreateCartRequest(cart: "cart-1", request: Keys.next()))
            XCTAssertEqual(created.version, 1)
            _ = try await alice.call(.itemPut, PutItemRequest(item: "sku-42", name: "Espresso beans", price: Money(minorUnits: 1250),
                                                              initialStock: 100, request: Keys.next()))
            _ = try await alice.call(.cartAddItem, AddItemRequest(cart: "cart-1", item: "sku-42", quantity: 2, request: Keys.next()))
            let second = try await alice.call(.cartAddItem, AddItemRequest(cart: "cart-1", item: "sku-42", quantity: 1, request: Keys.next()))
            XCTAssertEqual(second.version, 3)
            XCTAssertEqual(second.seq, 3)

            let cart = try await alice.call(.cartGet, GetCartRequest(cart: "cart-1")).cart
            XCTAssertEqual(cart.lines, [CartLine(item: "sku-42", quantity: 3, unitPrice: Money(minorUnits: 1250))])

            let stream = try await alice.stream(.syncWatch, WatchRequest(cart: "cart-1", fromSeq: 0))
            let live = Task {
                try await Task.sleep(for: .milliseconds(200))
                return try await alice.call(.cartSetQuantity, SetQuantityRequest(cart: "cart-1", item: "sku-42", quantity: 5, request: Keys.next()))
            }
            let events = try await collect(stream, count: 4)
            XCTAssertEqual(events.map(\.seq), [1, 2, 3, 4])
            XCTAssertEqual(events.map(\.change.name), ["CartCreated", "CartItemAdded", "CartItemAdded", "CartModified"])
            _ = try await live.value
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    // Only the configured admins change the catalogue: bob, logged in but not an admin, is
    // refused a put and a stock change with permission denied, a caller without a token is
    // unauthenticated, and the item keeps what alice, an admin, gave it.
    func testOnlyAdminsChangeTheItemCatalogue() async throws {
        let cluster = try TestCluster(size: 1)
        try await cluster.startAll()
        do {
            try await cluster.waitForLeaders()
            let alice = try cluster.client(1, as: "alice")
            let bob = try cluster.client(1, as: "bob")
            let anonymous = try cluster.client(1, as: nil)
            _ = try await alice.call(.itemPut, PutItemRequest(item: "tea", name: "Tea", price: Money(minorUnits: 300),
                                                              initialStock: 10, request: Keys.next()))
            let refused = await assertRPCError(.permissionDenied) {
                try await bob.call(.itemPut, PutItemRequest(item: "tea", name: "Cheap tea", price: Money(minorUnits: 1),
                                                            initialStock: 1_000, request: Keys.next()))
            }
            XCTAssertEqual(refused?.message.contains("admin"), true, "\(String(describing: refused))")
            await assertRPCError(.permissionDenied) {
                try await bob.call(.itemAdjustStock, AdjustStockRequest(item: "tea", delta: -10, request: Keys.next()))
            }
            await assertRPCError(.unauthenticated) {
                try await anonymous.call(.itemAdjustStock, AdjustStockRequest(item: "tea", delta: 5, request: Keys.next()))
            }
            let tea = try await bob.call(.itemGet, GetItemRequest(item: "tea")).item
            XCTAssertEqual(tea.name, "Tea")
            XCTAssertEqual(tea.price, Money(minorUnits: 300))
            XCTAssertEqual(tea.stock, 10)
            let adjusted = try await alice.call(.itemAdjustStock, AdjustStockRequest(item: "tea", delta: 5, request: Keys.next()))
            XCTAssertEqual(adjusted.item.stock, 15)
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    // Alice shares a cart with bob, unshares him and shares it again, without waiting for
    // the user-side links in between: bob's cart list ends up with the cart, marked with the
    // seq of the last share, and after a final unshare it ends up without it.
    func testBobsCartListFollowsSharesAndUnsharesInOrder() async throws {
        let cluster = try TestCluster(size: 1)
        try await cluster.startAll()
        do {
            try await cluster.waitForLeaders()
            let anonymous = try cluster.client(1, as: nil)
            _ = try await anonymous.call(.userRegister, RegisterUserRequest(user: "bob", password: "secret-bob", request: Keys.next()))
            let alice = try cluster.client(1, as: "alice")
            let bob = try cluster.client(1, as: "bob")
            _ = try await alice.call(.cartCreate, CreateCartRequest(cart: "shared-1", request: Keys.next()))
            _ = try await alice.call(.cartShare, ShareCartRequest(cart: "shared-1", users: ["bob"], request: Keys.next()))
            _ = try await alice.call(.cartUnshare, UnshareCartRequest(cart: "shared-1", user: "bob", request: Keys.next()))
            let reshared = try await alice.call(.cartShare, ShareCartRequest(cart: "shared-1", users: ["bob"], request: Keys.next()))
            let node = cluster.node(1)
            let partition = try XCTUnwrap(node.placement).partition(of: UserID("bob"))
            try await eventually(10, "bob's link is marked with the last share's seq") {
                await node.replicaState(partition)?.users["bob"]?.mark(for: "shared-1")?.seq == reshared.seq
            }
            let carts = try await bob.call(.userCarts, UserRequest(user: "bob")).carts
            XCTAssertEqual(carts, [CartLink(cart: "shared-1", role: .shared)])
            let unshared = try await alice.call(.cartUnshare, UnshareCartRequest(cart: "shared-1", user: "bob", request: Keys.next()))
            try await eventually(10, "bob's cart list is empty again") {
                try await bob.call(.userCarts, UserRequest(user: "bob")).carts.isEmpty
            }
            let mark = await node.replicaState(partition)?.users["bob"]?.mark(for: "shared-1")
            XCTAssertEqual(mark, CartLinkMark(cart: "shared-1", seq: unshared.seq, linked: false))
            // The node that sent the links confirmed them to the cart's partition itself:
            // nothing stays pending, and the leader had nothing to re-send.
            let cartPartition = try XCTUnwrap(node.placement).partition(of: CartID("shared-1"))
            try await eventually(5, "the cart's links are confirmed") {
                await node.replicaState(cartPartition)?.linksPending["shared-1"] == nil
            }
            XCTAssertEqual(node.metrics.value(.linksResent), 0)
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    // An operator asks the node over plain HTTP: /health answers ok once every partition has
    // a leader, and /metrics shows the counters and per-partition gauges.
    func testMetricsAndHealthEndpoints() async throws {
        let cluster = try TestCluster(size: 1) { $0.metricsPort = 0 }
        try await cluster.startAll()
        do {
            try await cluster.waitForLeaders()
            let alice = try cluster.client(1, as: "alice")
            _ = try await alice.call(.cartCreate, CreateCartRequest(cart: "m", request: Keys.next()))
            let port = try XCTUnwrap(cluster.node(1).ports?.metrics)
            let health = try httpGet(port: port, path: "/health")
            XCTAssertTrue(health.hasPrefix("HTTP/1.0 200"), health)
            let metrics = try httpGet(port: port, path: "/metrics")
            // Three proposals: the cart's creation, the owner's link on the user's partition,
            // and the link's confirmation on the cart's partition, which ends it pending.
            try await eventually(5, "the owner's link is proposed and confirmed") {
                try httpGet(port: port, path: "/metrics").contains("cart_raft_proposals_total 3")
            }
            XCTAssertTrue(metrics.contains("cart_partition_leader{partition=\"0\"} 1"), metrics)
            try await eventually(5, "a links-pending gauge per partition, all back at 0") {
                let pending = try httpGet(port: port, path: "/metrics").split(separator: "\n")
                    .filter { $0.hasPrefix("cart_partition_links_pending{") }
                return pending.count == 4 && pending.allSatisfy { $0.hasSuffix(" 0") }
            }
            // The create's request key is in its partition's dedup window, and no window
            // forgot a key early.
            let dedup = try httpGet(port: port, path: "/metrics").split(separator: "\n")
            let entries = dedup.filter { $0.hasPrefix("cart_partition_dedup_entries{") }
            XCTAssertEqual(entries.count, 4)
            XCTAssertEqual(entries.compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }.reduce(0, +), 1, "\(entries)")
            let early = dedup.filter { $0.hasPrefix("cart_partition_dedup_forgotten_early_total{") }
            XCTAssertTrue(early.count == 4 && early.allSatisfy { $0.hasSuffix(" 0") }, "\(early)")
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    // A benchmark asks how much disk and consensus work each write cost: after alice creates
    // a cart and adds to it, /metrics and Cluster.health count the group-commit syncs of the
    // node's partition logs and the entries committed and applied (the create, the owner's
    // link and the add: three entries).
    func testSyncAndCommitCountersGrowWithWrites() async throws {
        let cluster = try TestCluster(size: 1) { $0.metricsPort = 0 }
        try await cluster.startAll()
        do {
            try await cluster.waitForLeaders()
            let alice = try cluster.client(1, as: "alice")
            let health = RPCMethod<ClusterStatusRequest, HealthReply>.clusterHealth
            let before: HealthReply = try await alice.call(health, ClusterStatusRequest())
            _ = try await alice.call(.itemPut, PutItemRequest(item: "tea", name: "Tea", price: Money(minorUnits: 300),
                                                              initialStock: 10, request: Keys.next()))
            _ = try await alice.call(.cartCreate, CreateCartRequest(cart: "counted", request: Keys.next()))
            _ = try await alice.call(.cartAddItem, AddItemRequest(cart: "counted", item: "tea", quantity: 1, request: Keys.next()))
            try await eventually(5, "the owner's link is applied too") {
                let after: HealthReply = try await alice.call(health, ClusterStatusRequest())
                return (after.entriesApplied ?? 0) >= (before.entriesApplied ?? 0) + 4
            }
            let after: HealthReply = try await alice.call(health, ClusterStatusRequest())
            let syncs = try XCTUnwrap(after.storageSyncs) - XCTUnwrap(before.storageSyncs)
            XCTAssertGreaterThanOrEqual(syncs, 1)
            XCTAssertGreaterThanOrEqual(try XCTUnwrap(after.entriesCommitted), try XCTUnwrap(after.entriesApplied))
            XCTAssertGreaterThan(try XCTUnwrap(after.journalLongestSyncMicros), 0, "the journal timed its syncs")
            XCTAssertNotNil(after.journalSlowSyncs)
            XCTAssertNotNil(after.loopStalls)

            let port = try XCTUnwrap(cluster.node(1).ports?.metrics)
            let metrics = try httpGet(port: port, path: "/metrics")
            XCTAssertTrue(metrics.contains("# TYPE cart_storage_syncs_total counter"), metrics)
            XCTAssertTrue(metrics.contains("cart_raft_entries_committed_total "), metrics)
            XCTAssertFalse(metrics.contains("cart_storage_syncs_total 0\n"), metrics)
            // The journal times its syncs (a slow disk shows up here and in the log), and the
            // loops are watched for stalls.
            let longest = metrics.split(separator: "\n").first { $0.hasPrefix("cart_storage_journal_sync_longest_seconds ") }
            let seconds = try XCTUnwrap(longest.flatMap { Double($0.split(separator: " ")[1]) }, metrics)
            XCTAssertGreaterThan(seconds, 0)
            XCTAssertTrue(metrics.contains("cart_storage_journal_slow_syncs_total "), metrics)
            XCTAssertTrue(metrics.contains("cart_loop_stalls_total "), metrics)
            // Every sample belongs to a family with a `# HELP` and a `# TYPE` line (a histogram's
            // samples are its name with _bucket, _sum or _count).
            let body = try XCTUnwrap(metrics.range(of: "\r\n\r\n").map { metrics[$0.upperBound...] })
            let lines = body.split(separator: "\n")
            // The client calls by method and outcome, with their latencies.
            XCTAssertTrue(body.contains("cart_rpc_calls_total{method=\"Cart.addItem\",code=\"ok\"} "), String(body))
            XCTAssertTrue(body.contains("cart_rpc_call_seconds_bucket{method=\"Cart.addItem\",le=\"+Inf\"} "), String(body))
            let typed = Set(lines.filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] })
            let helped = Set(lines.filter { $0.hasPrefix("# HELP ") }.map { $0.split(separator: " ")[2] })
            for sample in lines where !sample.hasPrefix("#") {
                let name = sample.prefix { $0 != "{" && $0 != " " }
                let family = ["_bucket", "_sum", "_count"].lazy.compactMap { suffix in
                    name.hasSuffix(suffix) ? name.dropLast(suffix.count) : nil
                }.first { typed.contains($0) } ?? name
                XCTAssertTrue(typed.contains(family) && helped.contains(family), "no HELP or TYPE for \(family)")
            }
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    // A client retries an add with the same request key (say, after a timeout): it is
    // applied once and both answers are the same. A write with a stale expected version is
    // refused with the cart's current version.
    func testIdempotentRetryAndVersionConflict() async throws {
        let cluster = try TestCluster(size: 1)
        try await cluster.startAll()
        do {
            try await cluster.waitForLeaders()
            let alice = try cluster.client(1, as: "alice")
            _ = try await alice.call(.itemPut, PutItemRequest(item: "tea", name: "Tea", price: Money(minorUnits: 300),
                                                              initialStock: 10, request: Keys.next()))
            _ = try await alice.call(.cartCreate, CreateCartRequest(cart: "c-retry", request: Keys.next()))
            let key = Keys.next()
            let first = try await alice.call(.cartAddItem, AddItemRequest(cart: "c-retry", item: "tea", quantity: 1, request: key))
            let retry = try await alice.call(.cartAddItem, AddItemRequest(cart: "c-retry", item: "tea", quantity: 1, request: key))
            XCTAssertEqual(first, retry)
            let cart = try await alice.call(.cartGet, GetCartRequest(cart: "c-retry")).cart
            XCTAssertEqual(cart.line(for: "tea")?.quantity, 1)

            let conflict = await assertRPCError(.versionConflict) {
                try await alice.call(.cartAddItem, AddItemRequest(cart: "c-retry", item: "tea", quantity: 1,
                                                                  expectedVersion: 1, request: Keys.next()))
            }
            XCTAssertEqual(conflict?.currentVersion, 2)
            let fresh = try await alice.call(.cartAddItem, AddItemRequest(cart: "c-retry", item: "tea", quantity: 1,
                                                                          expectedVersion: 2, request: Keys.next()))
            XCTAssertEqual(fresh.version, 3)

            // A quantity wrong in itself is said as such, also for an item nobody put.
            for item: ItemID in ["tea", "no-such-item"] {
                let refused = await assertRPCError(.invalidArgument) {
                    try await alice.call(.cartAddItem, AddItemRequest(cart: "c-retry", item: item, quantity: 0, request: Keys.next()))
                }
                XCTAssertTrue(refused?.message.contains("invalid quantity") ?? false, "\(String(describing: refused))")
            }
            _ = await assertRPCError(.notFound) {
                try await alice.call(.cartAddItem, AddItemRequest(cart: "c-retry", item: "no-such-item", quantity: 1, request: Keys.next()))
            }
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    // Carol was never invited: every operation on alice's cart, the watch included, is
    // refused. A connection without a token may not touch carts at all, and a forged token
    // refuses the connection.
    func testUninvitedUserIsDeniedEverywhere() async throws {
        let cluster = try TestCluster(size: 1)
        try await cluster.startAll()
        do {
            try await cluster.waitForLeaders()
            let alice = try cluster.client(1, as: "alice")
            let carol = try cluster.client(1, as: "carol")
            _ = try await alice.call(.itemPut, PutItemRequest(item: "tea", name: "Tea", price: Money(minorUnits: 300),
                                                              initialStock: 10, request: Keys.next()))
            _ = try await alice.call(.cartCreate, CreateCartRequest(cart: "private", request: Keys.next()))
            await assertRPCError(.permissionDenied) { try await carol.call(.cartGet, GetCartRequest(cart: "private")) }
            await assertRPCError(.permissionDenied) {
                try await carol.call(.cartAddItem, AddItemRequest(cart: "private", item: "tea", quantity: 1, request: Keys.next()))
            }
            await assertRPCError(.permissionDenied) {
                try await carol.call(.cartShare, ShareCartRequest(cart: "private", users: ["carol"], request: Keys.next()))
            }
            await assertRPCError(.permissionDenied) {
                try await carol.call(.cartCheckout, CheckoutRequest(cart: "private", request: Keys.next()))
            }
            await assertRPCError(.permissionDenied) {
                try await carol.call(.cartEvents, CartEventsRequest(cart: "private", fromSeq: 0))
            }
            await assertRPCError(.permissionDenied) {
                for try await _ in try await carol.stream(.syncWatch, WatchRequest(cart: "private", fromSeq: 0)) {}
            }
            // Who belongs to a cart is for its members to know; anyone may ask about themselves.
            await assertRPCError(.permissionDenied) {
                try await carol.call(.userCanAccess, CanAccessRequest(user: "alice", cart: "private"))
            }
            let carolAsksAboutCarol = try await carol.call(.userCanAccess, CanAccessRequest(user: "carol", cart: "private"))
            XCTAssertFalse(carolAsksAboutCarol.allowed)
            let aliceAsksAboutCarol = try await alice.call(.userCanAccess, CanAccessRequest(user: "carol", cart: "private"))
            XCTAssertFalse(aliceAsksAboutCarol.allowed)
            let aliceAsksAboutAlice = try await alice.call(.userCanAccess, CanAccessRequest(user: "alice", cart: "private"))
            XCTAssertTrue(aliceAsksAboutAlice.allowed)
            let anonymous = try cluster.client(1, as: nil)
            await assertRPCError(.unauthenticated) { try await anonymous.call(.cartGet, GetCartRequest(cart: "private")) }
            let forged = try cluster.client(1, as: nil, token: "v1.k1.forged.token")
            await assertRPCError(.unauthenticated) { try await forged.call(.cartGet, GetCartRequest(cart: "private")) }
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    // Bob registers with a password and logs in; the signed token from login identifies him
    // on a new connection, and a wrong password is refused.
    func testRegisterLoginAndUseTheToken() async throws {
        let cluster = try TestCluster(size: 1) { $0.devIdentities = false }
        try await cluster.startAll()
        do {
            try await cluster.waitForLeaders()
            let anonymous = try cluster.client(1, as: nil)
            let registration = RegisterUserRequest(user: "bob", password: "correct horse", request: Keys.next())
            _ = try await anonymous.call(.userRegister, registration)
            // A retry (its answer lost) is answered as the first attempt; another registration
            // of the name is refused, both without hashing again.
            _ = try await anonymous.call(.userRegister, registration)
            await assertRPCError(.alreadyExists) {
                try await anonymous.call(.userRegister, RegisterUserRequest(user: "bob", password: "another one", request: Keys.next()))
            }
            // A password is at least 8 characters: counted as characters, not bytes.
            for short in ["", "seven77", "ééééééé"] {
                await assertRPCError(.invalidArgument) {
                    try await anonymous.call(.userRegister, RegisterUserRequest(user: "carol", password: short, request: Keys.next()))
                }
            }
            _ = try await anonymous.call(.userRegister, RegisterUserRequest(user: "carol", password: "éééééééé", request: Keys.next()))
            await assertRPCError(.unauthenticated) { try await anonymous.call(.userLogin, LoginRequest(user: "nobody", password: "x")) }
            await assertRPCError(.unauthenticated) { try await anonymous.call(.userLogin, LoginRequest(user: "bob", password: "wrong")) }
            let login = try await anonymous.call(.userLogin, LoginRequest(user: "bob", password: "correct horse"))
            let bob = try cluster.client(1, as: nil, token: login.token)
            let created = try await bob.call(.cartCreate, CreateCartRequest(cart: "bobs", request: Keys.next()))
            XCTAssertEqual(created.cart, "bobs")
            try await eventually(10, "the cart is linked to bob") {
                try await bob.call(.userCarts, UserRequest(user: "bob")).carts.contains(CartLink(cart: "bobs", role: .owner))
            }
            // A development identity on nodes without them is refused, and the answer says why.
            let dev = try cluster.client(1, as: "bob")
            let refused = await assertRPCError(.unauthenticated) { try await dev.call(.cartGet, GetCartRequest(cart: "bobs")) }
            XCTAssertTrue(refused?.message.contains("--dev-identities") ?? false, "\(String(describing: refused))")
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    // A connection lives no longer than the token it was opened with: bob's token (signed by
    // the node's keyring, valid for 4 s) serves calls and a watch until it expires; then the
    // node closes the connection, the watch ends with unauthenticated, and the same token
    // opens no new connection.
    func testAConnectionEndsWhenItsTokenExpires() async throws {
        let cluster = try TestCluster(size: 1) { $0.devIdentities = false }
        try await cluster.startAll()
        do {
            try await cluster.waitForLeaders()
            let tokens = try XCTUnwrap(cluster.node(1).services?.tokens)
            let token = try tokens.signer.sign(user: "bob", issuedAt: TokenService.now(), lifetimeMs: 4_000)
            let bob = try cluster.client(1, as: nil, token: token)
            _ = try await bob.call(.cartCreate, CreateCartRequest(cart: "brief", request: Keys.next()))
            let watch = try await bob.stream(.syncWatch, WatchRequest(cart: "brief", fromSeq: 0))
            let events = NIOLockedValueBox(0)
            var ending: (any Error)?
            do {
                try await within(20) { for try await _ in watch { events.withLockedValue { $0 += 1 } } }
            } catch {
                ending = error
            }
            XCTAssertEqual(events.withLockedValue { $0 }, 1, "the watch delivered the cart's event before the token expired")
            XCTAssertEqual((ending as? RPCError)?.code, .unauthenticated, "\(String(describing: ending))")
            await assertRPCError(.unauthenticated) { try await bob.call(.cartGet, GetCartRequest(cart: "brief")) }
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }
}

/// Runs `body`, failing if it takes longer than `seconds`.
private func within(_ seconds: Double, _ body: @escaping @Sendable () async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Bool.self) { group in
        group.addTask { try await body(); return true }
        group.addTask { try await Task.sleep(for: .seconds(seconds)); return false }
        let finished = try await group.next()!
        group.cancelAll()
        if !finished { throw TestFailure("still running after \(seconds) s") }
    }
}


/// Password hashing is open to callers without a token: how much of it may wait is bounded.
final class PasswordWorkTests: XCTestCase {
    func testCallsBeyondTheBoundAreRefusedAtOnceAndTheBoundFreesAsWorkEnds() throws {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        defer { try? pool.syncShutdownGracefully() }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let work = PasswordWork(threadPool: pool, queuedMax: 2)
        let gate = DispatchSemaphore(value: 0)
        let held = (0..<2).map { _ in work.run(on: loop) { gate.wait(); return 1 } }
        XCTAssertEqual(work.inProgress, 2)
        XCTAssertThrowsError(try work.run(on: loop) { 0 }.wait()) { error in
            XCTAssertEqual((error as? RPCError)?.code, .resourceExhausted)
        }
        gate.signal()
        gate.signal()
        for future in held { XCTAssertEqual(try future.wait(), 1) }
        XCTAssertEqual(try work.run(on: loop) { 7 }.wait(), 7, "the bound frees as work ends")
        XCTAssertEqual(work.inProgress, 0)
    }
}
