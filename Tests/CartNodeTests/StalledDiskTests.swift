import CartAPI
import CartDomain
@testable import CartNode
import CartRPC
@testable import CartStorage
import CartTestSupport
import CartTypes
import NIOConcurrencyHelpers
import XCTest

/// Journal syncs that do not return for a while (`NodeJournal.pauseSyncs`), as this machine's
/// disk does for up to a second now and then: heartbeats do not wait for the disk, so a
/// stall costs the writes waiting on it their time, not the partitions their leaders; and a
/// leader whose syncs never return hands its partition to nodes whose disks work.
/// The test cluster's election timeout is 200 ms (10 ticks of 20 ms) unless a test says.
final class StalledDiskTests: XCTestCase {
    /// Both followers of a partition hold the leader's entries but cannot sync them for 3 s
    /// (three election timeouts of 1 s here, so that a loop stalled on a loaded machine moves
    /// no leader; below the five after which a replica counts its disk as stuck). Their
    /// heartbeat answers used to wait behind those syncs, and the leader stepped down by
    /// check-quorum within two timeouts. Now leader and term stay, the write waits for the
    /// disks and then completes.
    func testFollowersWhoseSyncsStallKeepTheirLeader() async throws {
        let cluster = try TestCluster(size: 3, partitions: 4) { $0.electionTimeoutTicks = 50 }
        do {
            let (cart, partition, leader, client) = try await Self.start(cluster)
            let before = await Self.views(of: partition, in: cluster)
            let followers = [NodeID(1), NodeID(2), NodeID(3)].filter { $0 != leader }
            let journals = try followers.map { try XCTUnwrap(cluster.node($0).journal) }
            let (during, reply) = try await Self.whileStalled(journals) {
                async let write = Self.add(client, cart)
                try await Task.sleep(for: .seconds(3))
                let during = await Self.views(of: partition, in: cluster)
                for journal in journals { journal.resumeSyncs() }
                return (during, try await write)
            }

            XCTAssertEqual(during, before, "leader and term of \(partition) on every node while the followers' syncs stalled")
            XCTAssertEqual(reply.seq, Seq(2), "the add after the create")
            let after = await Self.views(of: partition, in: cluster)
            XCTAssertEqual(after, before)
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    /// A leader's syncs do not return at all: once its write has waited five election
    /// timeouts, its heartbeats wait for the disk too, and the other two elect a leader
    /// that serves the partition. When the disk comes back, the old leader catches up.
    func testLeaderWhoseSyncsNeverReturnLosesThePartition() async throws {
        let cluster = try TestCluster(size: 3, partitions: 4)
        do {
            let (cart, partition, stuck, stuckClient) = try await Self.start(cluster)
            let journal = try XCTUnwrap(cluster.node(stuck).journal)
            let (leader, reply) = try await Self.whileStalled([journal]) {
                async let stuckWrite = Self.addIgnoringFailure(stuckClient, cart)
                var newLeader: NodeID?
                let deadline = ContinuousClock.now + .seconds(10)
                while newLeader == nil, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                    for id in [NodeID(1), NodeID(2), NodeID(3)] where id != stuck {
                        let status = await cluster.node(id).partitionStatuses().first { $0.partition == partition }
                        if let status, status.role == .leader { newLeader = id }
                    }
                }
                let leader = try XCTUnwrap(newLeader, "no node whose disk works took over \(partition) within 10 s")
                let reply = try await Self.add(try cluster.client(leader, as: "alice"), cart)
                journal.resumeSyncs()
                _ = await stuckWrite
                return (leader, reply)
            }
            try await eventually(10, "node \(stuck) catches up with \(partition)") {
                let status = await cluster.node(stuck).partitionStatuses().first { $0.partition == partition }
                return status.map { $0.appliedIndex >= $0.commitIndex && $0.leader == leader && $0.commitIndex > .zero } ?? false
                    && reply.seq >= Seq(2)
            }
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    /// A leader sends its appends before its own sync returns (`leaderSendsBeforeDurable`).
    /// With only the leader's syncs paused (for less than the five election timeouts after
    /// which its disk counts as stuck), both followers store the add and commit it on their
    /// own syncs, and apply it; the leader applies it, and so answers, only once its own sync
    /// returns. With the leader syncing before it sends, the followers would see nothing.
    func testALeaderWhoseSyncStallsIsOutrunByItsFollowersButAnswersOnlyOnceDurable() async throws {
        let cluster = try TestCluster(size: 3, partitions: 4) { $0.electionTimeoutTicks = 50 }
        do {
            let (cart, partition, leader, client) = try await Self.start(cluster)
            let followers = [NodeID(1), NodeID(2), NodeID(3)].filter { $0 != leader }
            let journal = try XCTUnwrap(cluster.node(leader).journal)
            let before = await cluster.node(leader).partitionStatuses().first { $0.partition == partition }
            let appliedBefore = try XCTUnwrap(before?.appliedIndex)
            let answered = NIOLockedValueBox(false)
            let (leaderDuring, reply) = try await Self.whileStalled([journal]) {
                let write = Task {
                    let reply = try await Self.add(client, cart)
                    answered.withLockedValue { $0 = true }
                    return reply
                }
                try await eventually(3, "both followers apply the add while the leader's sync stalls") {
                    for id in followers {
                        let status = await cluster.node(id).partitionStatuses().first { $0.partition == partition }
                        guard let status, status.appliedIndex > appliedBefore else { return false }
                    }
                    return true
                }
                let leaderDuring = await cluster.node(leader).partitionStatuses().first { $0.partition == partition }
                XCTAssertFalse(answered.withLockedValue { $0 }, "answered before the leader's own sync returned")
                journal.resumeSyncs()
                return (leaderDuring, try await write.value)
            }
            XCTAssertEqual(leaderDuring?.role, .leader)
            XCTAssertEqual(leaderDuring?.term, before?.term)
            XCTAssertGreaterThan(leaderDuring?.commitIndex ?? .zero, appliedBefore, "committed on the followers' syncs")
            XCTAssertEqual(leaderDuring?.appliedIndex, appliedBefore, "the leader applies only what its own disk holds")
            XCTAssertEqual(reply.seq, Seq(2), "the add after the create")
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    /// A new term or vote is saved off the event loop. A follower whose disk stalls (its
    /// journal and hard-state syncs paused) with a write unsynced, while its partitions'
    /// leader goes away, must save term and vote for every election it takes part in: its
    /// loops stay free meanwhile (no loop stall counted, its partitions still report their
    /// state), its pre-votes and their answers leave without the disk (the elections start),
    /// no partition can elect without its vote until the disk resumes, and then one does and
    /// takes a write.
    func testAnElectionOnAStalledDiskLeavesTheLoopFree() async throws {
        let cluster = try TestCluster(size: 3, partitions: 4)
        do {
            let (cart, partition, leader, client) = try await Self.start(cluster)
            let voters = [NodeID(1), NodeID(2), NodeID(3)].filter { $0 != leader }
            let stalled = voters[0], other = voters[1]
            let journal = try XCTUnwrap(cluster.node(stalled).journal)
            // The disk stalls with a write of the partition unsynced: the add commits on the
            // leader and the other follower, and the stalled node holds it but cannot sync it.
            // Every message of that node's Ready waits for the sync, but pre-votes and their
            // answers need no disk: the election can still start.
            journal.pauseSyncs()
            let added: CartWriteReply
            do {
                added = try await Self.add(client, cart)
                let target = await cluster.node(leader).partitionStatuses().first { $0.partition == partition }?.lastIndex ?? .zero
                try await eventually(10, "node \(stalled) holds the add, unsynced") {
                    let status = await cluster.node(stalled).partitionStatuses().first { $0.partition == partition }
                    return status.map { $0.lastIndex >= target && $0.appliedIndex < target } ?? false
                }
            } catch {
                journal.resumeSyncs()
                throw error
            }
            XCTAssertEqual(added.seq, Seq(2))
            let during = try await Self.whileStalled([journal]) {  // paused already; resumed by the reads
                await cluster.stop(leader)
                // The reads take a second: five election timeouts.
                return try await readStatusesWhileStalled(cluster, node: stalled, partition: partition, resuming: journal.resumeSyncs)
            }
            XCTAssertEqual(during.loopStalls, 0, "no event loop of node \(stalled) stalled")
            XCTAssertEqual(during.reports, 10 * 4, "every partition reported its state during the stall")
            XCTAssertGreaterThan(during.last?.term ?? .zero, Term(1), "node \(stalled) took part in elections meanwhile")
            XCTAssertNotEqual(during.last?.role, .leader, "no vote of node \(stalled) counted before its disk resumed")
            try await eventually(10, "a leader for \(partition) once the disk resumed") {
                let status = await cluster.node(other).partitionStatuses().first { $0.partition == partition }
                return status.map { $0.leader == stalled || $0.leader == other } ?? false
            }
            let elected = await cluster.leader(of: partition)
            let newLeader = try XCTUnwrap(elected)
            let reply = try await Self.add(try cluster.client(newLeader, as: "alice"), cart)
            XCTAssertEqual(reply.seq, Seq(3))
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    /// A node must cut from its log an entry a new leader replaces (§5.3: its own add, taken
    /// while it led cut off from the others, never committed), and its disk stalls once it
    /// has saved the new term: the cut waits for the disk off the event loop. Its loops stay
    /// free meanwhile (no loop stall counted, every partition reports its state) and it
    /// follows the new leader; when the disk resumes, it holds the new leader's add at seq 2,
    /// not its own (which its router may send on to the new leader with its key, to land once
    /// after it). Cut on the loop, the wait for the journal stalled the whole node.
    func testACutOfTheLogOnAStalledDiskLeavesTheLoopFree() async throws {
        try await ProxiedPaths.withCluster(size: 3, partitions: 4) { cluster, proxies in
            let cart = CartID("cut-short")
            let partition = try XCTUnwrap(cluster.node(1).placement).partition(of: cart)
            let known = await cluster.leader(of: partition)
            let old = try XCTUnwrap(known)
            let oldClient = try cluster.client(old, as: "alice")
            _ = try await oldClient.call(.itemPut, PutItemRequest(item: "tea", name: "tea", price: Money(minorUnits: 100),
                                                                  initialStock: 1_000, request: Keys.next()))
            _ = try await oldClient.call(.cartCreate, CreateCartRequest(cart: cart, request: Keys.next()))
            let beforeStatus = await Self.status(of: partition, on: old, cluster)
            let before = try XCTUnwrap(beforeStatus)
            let others = [NodeID(1), NodeID(2), NodeID(3)].filter { $0 != old }
            let paths = others.flatMap { [proxies[old, $0], proxies[$0, old]] }
            for path in paths { path.hold() }
            let lost = Task {
                try? await oldClient.call(.cartAddItem, AddItemRequest(cart: cart, item: "tea", quantity: 5, request: Keys.next()))
            }
            try await eventually(10, "node \(old) holds its add, uncommitted") {
                await Self.status(of: partition, on: old, cluster).map { $0.lastIndex > before.lastIndex } ?? false
            }
            var elected: NodeID?
            let deadline = ContinuousClock.now + .seconds(20)
            while elected == nil, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                for id in others {
                    if let view = await Self.status(of: partition, on: id, cluster), view.role == .leader, view.term > before.term { elected = id }
                }
            }
            let newLeader = try XCTUnwrap(elected, "the other two elect a leader")
            let reply = try await cluster.client(newLeader, as: "alice")
                .call(.cartAddItem, AddItemRequest(cart: cart, item: "tea", quantity: 1, request: Keys.next()))
            XCTAssertEqual(reply.seq, Seq(2))
            let targetStatus = await Self.status(of: partition, on: newLeader, cluster)
            let target = try XCTUnwrap(targetStatus)

            let journal = try XCTUnwrap(cluster.node(old).journal)
            journal.pauseSyncs(hardStates: false)
            for path in paths { path.release() }
            let during = try await readStatusesWhileStalled(cluster, node: old, partition: partition, resuming: journal.resumeSyncs)
            XCTAssertEqual(during.loopStalls, 0, "no event loop of node \(old) stalled")
            XCTAssertEqual(during.reports, 10 * 4, "every partition reported its state during the stall")
            XCTAssertEqual(during.last?.leader, newLeader, "node \(old) follows the new leader")
            XCTAssertGreaterThanOrEqual(during.last?.lastIndex ?? .zero, target.lastIndex, "and took its entries, the cut waiting for the disk")
            XCTAssertLessThan(during.last?.appliedIndex ?? LogIndex(UInt64.max), target.lastIndex)

            // The old node's own add lost its place in the log, but its router may still send it
            // on, with its key, to the new leader once it learns of it (within the router's
            // wait): then it lands once, after the new leader's add.
            let lostReply = await lost.value
            let expectedSeq = lostReply == nil ? Seq(2) : Seq(3)
            if let lostReply { XCTAssertEqual(lostReply.seq, Seq(3), "a lost add sent on comes after the new leader's") }
            do {
                try await eventually(10, "node \(old) applies the new leader's add") {
                    await cluster.node(old).replicaState(partition)?.carts[cart]?.seq == expectedSeq
                }
            } catch {
                let mine = await cluster.node(old).replicaState(partition)?.carts[cart]
                let theirs = await cluster.node(newLeader).replicaState(partition)?.carts[cart]
                let status = await Self.status(of: partition, on: old, cluster)
                XCTFail("node \(old): seq \(String(describing: mine?.seq)) lines \(String(describing: mine?.lines.map(\.quantity))); new leader \(newLeader): seq \(String(describing: theirs?.seq)) lines \(String(describing: theirs?.lines.map(\.quantity))); lost reply \(String(describing: lostReply?.seq)); status \(String(describing: status))")
                throw error
            }
            let replica = await cluster.node(old).replicaState(partition)
            XCTAssertEqual(replica?.carts[cart]?.lines.map(\.quantity), [lostReply == nil ? 1 : 6],
                           "the new leader's add at seq 2, not the old node's own (which, sent on, came after it)")
        }
    }

    private static func status(of partition: PartitionID, on node: NodeID, _ cluster: TestCluster) async -> PartitionStatus? {
        await cluster.node(node).partitionStatuses().first { $0.partition == partition }
    }

    /// Starts the cluster and creates a cart (and the item it gets) through its partition's
    /// leader: the cart, its partition, that leader and a client of it.
    /// A leader's snapshot falls due, and the compaction of its log after it finds the disk
    /// stalled (held just before it writes the new boundary): its loops stay free meanwhile
    /// (no loop stall counted, every partition reports its state) and adds to the same
    /// partition still commit, appended to the log being compacted. Once the disk resumes,
    /// the log is compacted and the cart holds every add. On the loop, with the log's lock
    /// held, the compaction stalled the whole node.
    func testACompactionOnAStalledDiskLeavesTheLoopFree() async throws {
        let cluster = try TestCluster(size: 3, partitions: 4) { $0.snapshotIntervalEntries = 20 }
        do {
            let (cart, partition, leader, client) = try await Self.start(cluster)
            let replica = try XCTUnwrap(cluster.node(leader).replica(partition))
            let log = replica.storage.log
            let gate = DispatchSemaphore(value: 0)
            log.setBoundaryGateForTesting(gate)
            // A compaction on the loop would hold everything below (the loop's answers too)
            // until the disk resumes: bound it, so such a build fails instead of hanging.
            let safety = Task {
                try? await Task.sleep(for: .seconds(15))
                gate.signal()
            }
            defer {
                safety.cancel()
                log.setBoundaryGateForTesting(nil)
                gate.signal()
            }
            let stallsBefore = cluster.node(leader).metrics.value(.loopStalls)
            var adds = 0
            while cluster.node(leader).metrics.value(.snapshotsTaken) == 0 {
                _ = try await Self.add(client, cart)
                adds += 1
                guard adds < 100 else { XCTFail("a snapshot falls due within 30 entries"); break }
            }
            // The snapshot is counted just before its compaction leaves the loop.
            async let addsDuring = Self.addSeveral(client, cart, count: 5)
            let during = try await readStatusesWhileStalled(cluster, node: leader, partition: partition, resuming: { gate.signal() })
            let replies = try await addsDuring
            adds += replies.count

            XCTAssertEqual(cluster.node(leader).metrics.value(.loopStalls) - stallsBefore, 0, "no event loop of node \(leader) stalled")
            XCTAssertEqual(during.reports, 10 * 4, "every partition reported its state during the stall")
            try await eventually(10, "the leader's log is compacted once the disk resumes") { log.firstIndex > LogIndex(1) }
            let cartNow = try await client.call(.cartGet, GetCartRequest(cart: cart)).cart
            XCTAssertEqual(cartNow.line(for: "tea")?.quantity, Int64(adds), "every add is in the cart")
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    private static func addSeveral(_ client: RPCClient, _ cart: CartID, count: Int) async throws -> [CartWriteReply] {
        var replies: [CartWriteReply] = []
        for _ in 0..<count { replies.append(try await add(client, cart)) }
        return replies
    }

    /// The availability check reads what the leader has applied. A retry that arrives while
    /// its first attempt waits for the followers' disks goes to the log even when the check
    /// would now refuse it (the leader's copy of the item says a unit fewer is left than when
    /// the first attempt passed): the log answers it as the first attempt, and the client
    /// gets one answer for both. A new request for the same unit is refused.
    func testARetryWhileItsFirstAttemptWaitsIsAnsweredByTheLog() async throws {
        let cluster = try TestCluster(size: 3, partitions: 4) { $0.electionTimeoutTicks = 50 }
        do {
            let (cart, _, leader, client) = try await Self.start(cluster)
            let rare = Item(id: "rare", name: "rare", price: Money(minorUnits: 100), stock: 3)
            _ = try await client.call(.itemPut, PutItemRequest(item: rare.id, name: rare.name, price: rare.price,
                                                               initialStock: rare.stock, request: Keys.next()))
            _ = try await client.call(.cartAddItem, AddItemRequest(cart: cart, item: rare.id, quantity: 2, request: Keys.next()))
            let cache = try XCTUnwrap(cluster.node(leader).itemCache)
            try await eventually(10, "the leader's copy of the item") { cache.item(rare.id) == rare }
            let followers = [NodeID(1), NodeID(2), NodeID(3)].filter { $0 != leader }
            let journals = try followers.map { try XCTUnwrap(cluster.node($0).journal) }
            let lastUnit = AddItemRequest(cart: cart, item: rare.id, quantity: 1, request: Keys.next())
            let proposed = cluster.node(leader).metrics.value(.proposals)
            let (first, retry) = try await Self.whileStalled(journals) {
                async let first = client.call(.cartAddItem, lastUnit)
                try await eventually(10, "the first attempt is proposed") {
                    cluster.node(leader).metrics.value(.proposals) > proposed
                }
                var fewer = rare
                fewer.stock = 2
                cache.update(fewer)
                async let retry = client.call(.cartAddItem, lastUnit)
                try await eventually(10, "the retry is proposed too") {
                    cluster.node(leader).metrics.value(.proposals) > proposed + 1
                }
                for journal in journals { journal.resumeSyncs() }
                return (try await first, try await retry)
            }
            XCTAssertEqual(retry, first)
            XCTAssertEqual(first.seq, Seq(3), "create, the first two units, the last unit")
            let refused = await assertRPCError(.failedPrecondition) {
                try await client.call(.cartAddItem, AddItemRequest(cart: cart, item: rare.id, quantity: 1, request: Keys.next()))
            }
            XCTAssertEqual(refused?.message, "[10] insufficient stock for rare: 2 available")
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }

    private static func start(_ cluster: TestCluster) async throws -> (CartID, PartitionID, NodeID, RPCClient) {
        try await cluster.startAll()
        try await cluster.waitForLeaders()
        let placement = try XCTUnwrap(cluster.node(1).placement)
        let cart = CartID("stalled-disk")
        let partition = placement.partition(of: cart)
        let known = await cluster.leader(of: partition)
        let leader = try XCTUnwrap(known)
        let client = try cluster.client(leader, as: "alice")
        _ = try await client.call(.itemPut, PutItemRequest(item: "tea", name: "tea", price: Money(minorUnits: 100),
                                                           initialStock: 1_000, request: Keys.next()))
        _ = try await client.call(.cartCreate, CreateCartRequest(cart: cart, request: Keys.next()))
        return (cart, partition, leader, client)
    }

    private static func add(_ client: RPCClient, _ cart: CartID) async throws -> CartWriteReply {
        try await client.call(.cartAddItem, AddItemRequest(cart: cart, item: "tea", quantity: 1, request: Keys.next()))
    }

    /// Pauses `journals` and runs `body`, which resumes them; resumes them if it throws, before
    /// the writes it started (waiting on those journals) are awaited on the way out.
    private static func whileStalled<T: Sendable>(_ journals: [NodeJournal], _ body: () async throws -> T) async throws -> T {
        for journal in journals { journal.pauseSyncs() }
        do {
            return try await body()
        } catch {
            for journal in journals { journal.resumeSyncs() }
            throw error
        }
    }

    private static func addIgnoringFailure(_ client: RPCClient, _ cart: CartID) async -> CartWriteReply? {
        try? await add(client, cart)
    }

    /// Every node's view of `partition`: its leader and term.
    private static func views(of partition: PartitionID, in cluster: TestCluster) async -> [String] {
        var views: [String] = []
        for id in [NodeID(1), NodeID(2), NodeID(3)] {
            let status = await cluster.node(id).partitionStatuses().first { $0.partition == partition }
            views.append("n\(id.rawValue): leader \(status?.leader.rawValue ?? 0) term \(status?.term.rawValue ?? 0)")
        }
        return views
    }
}
