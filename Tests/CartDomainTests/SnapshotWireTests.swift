import CartDomain
import CartTypes
import CartWire
import Foundation
import XCTest

/// The snapshot's hand-written wire fields (`PartitionSnapshot+Wire.swift`, `Model+Wire.swift`,
/// `Events+Wire.swift`) and the Codable encoding are one format: the same bytes for every
/// partition state, each path decodes the other's bytes to the same snapshot, and any input,
/// valid or damaged, gets the same answer from both (an equal snapshot, or an error).
/// Random runs print their seed; rerun one with `SNAPSHOT_WIRE_SEED=<seed> swift test --filter SnapshotWireTests`.
final class SnapshotWireTests: XCTestCase {
    private let codec = BinarySnapshotCodec()
    private let runsPerSeed = 10
    private let commandsPerRun = 600
    private let snapshotEveryCommands = 25
    private let mutationsPerRun = 3_000

    private func seed() -> UInt64 {
        let seed = ProcessInfo.processInfo.environment["SNAPSHOT_WIRE_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 0...UInt64.max)
        print("SnapshotWireTests seed \(seed) (rerun with SNAPSHOT_WIRE_SEED=\(seed))")
        return seed
    }

    // MARK: same bytes, same values

    // Random workloads (see `Workload`: any command, valid or not, from the property tests'
    // generator, and cart lifecycles ending in every phase of the checkout saga, with
    // retried and refused requests), snapshotted every 25 commands, with small
    // limits (histories and the dedup window wrap often) and standard ones (64-event
    // histories): the hand-written bytes are the Codable bytes, each path decodes the other's
    // bytes to the snapshot, and the codec restores the state. The runs must reach every kind
    // of record the snapshot holds.
    func testRandomPartitionStatesEncodeToTheCodableBytes() throws {
        let seed = seed()
        var coverage = Coverage()
        // Each run's generator seed is an output of a generator seeded with the test's seed.
        // (Adding run × the generator's own increment to the seed, as before, started run k
        // k steps along run 0's stream: the runs drew nearly the same values, and a seed
        // could miss a checkout phase in all of them.)
        var runSeeds = SeededRandom(seed: seed)
        for run in 0..<runsPerSeed {
            let runSeed = runSeeds.next()
            for (step, state) in randomStates(seed: runSeed, limits: limits(forRun: run)) {
                let snapshot = state.snapshot()
                let context = "seed \(seed) run \(run) (generator seed \(runSeed)) after \(step) commands"
                guard let bytes = try assertBothPathsAgree(on: snapshot, context) else { return }
                XCTAssertTrue(try PartitionState(snapshotBytes: bytes, using: codec) == state, "\(context): restored state differs")
                coverage.record(snapshot)
            }
        }
        coverage.assertComplete("seed \(seed)")
    }

    // The partition that ran every command with a request key, then widened with what only a
    // snapshot's own fields can hold: every error a command can be refused with, every event
    // kind remembered in the dedup window, an outcome without events, histories holding every
    // change kind (and events naming another cart than their record's), and strings and
    // integers at their extremes (empty, multi-byte UTF-8, long enough for two-byte lengths,
    // Int64.min/max, UInt64.max).
    func testEveryRecordAndOutcomeKindEncodesToTheCodableBytes() throws {
        let (state, _, events) = EveryCommandScenario.run()
        let plain = try XCTUnwrap(try assertBothPathsAgree(on: state.snapshot(), "every-command scenario"))
        XCTAssertTrue(try PartitionState(snapshotBytes: plain, using: codec) == state)

        var values = EnvelopeGenerator(seed: 0x5EED)
        var snapshot = state.snapshot()
        var request: UInt64 = 1_000
        func key() -> RequestKey {
            request += 1
            return RequestKey(client: ClientID(UInt64.max), request: RequestID(request))
        }
        snapshot.dedup += EveryCommandScenario.allErrors.map { DedupEntry(key: key(), outcome: .refused($0)) }
        snapshot.dedup.append(DedupEntry(key: key(), outcome: .accepted(events)))
        snapshot.dedup.append(DedupEntry(key: key(), outcome: .accepted([])))
        snapshot.dedup += (0..<30).map { _ in DedupEntry(key: key(), outcome: .accepted(wildEvents(&values, count: 3))) }
        snapshot.dedup += [Int64.min, -1, 0, Int64.max].map { time in
            DedupEntry(key: key(), outcome: .accepted([]), fingerprint: UInt64.max, appliedAt: Timestamp(millisecondsSinceEpoch: time))
        }
        let cart = snapshot.carts[0].cart.id
        snapshot.carts[0].history = CartHistory(events: (0..<40).map { index in
            wildCartEvent(&values, cart: index % 5 == 4 ? CartID(values.text()) : cart, kind: index)
        })
        snapshot.items += (0..<20).map { _ in
            Item(id: ItemID(values.text()), name: values.text(), price: Money(minorUnits: values.signed()),
                 stock: values.signed(), reserved: values.signed())
        }
        snapshot.users += (0..<20).map { index in
            User(id: UserID(values.text()), passwordHash: wildBytes(&values, countMax: index * 20),
                 registeredAt: Timestamp(millisecondsSinceEpoch: values.signed()),
                 carts: (0..<index % 4).map { _ in CartLink(cart: CartID(values.text()), role: values.random.chance(50) ? .owner : .shared) })
        }
        snapshot.reservationsHeld += (0..<10).map { _ in Reservation(checkout: CheckoutID(values.text()), lines: wildLines(&values), status: .held) }
        snapshot.reservationsSettled += (0..<10).map { index in
            Reservation(checkout: CheckoutID(values.text()), lines: wildLines(&values), status: index % 2 == 0 ? .committed : .released)
        }
        snapshot.counts = snapshot.actualCounts
        try assertBothPathsAgree(on: snapshot, "widened every-command scenario")

        snapshot.formatVersion = UInt32.max
        snapshot.limits.quantityMax = Int64.min
        snapshot.limits.stockMax = Int64.max
        snapshot.limits.dedupEntriesMax = Int.min
        snapshot.limits.reasonBytesMax = -1
        snapshot.limits.dedupRetentionMs = Int64.min
        snapshot.counts.carts = Int.max
        snapshot.counts.dedupEntries = Int.min
        try assertBothPathsAgree(on: snapshot, "extreme header fields")
    }

    // A newer writer's unknown fields (every wire type) are skipped at the top level and in a
    // cart record, records may come in any field order, and a field written twice takes its
    // last value: the earlier one is never read, even when it would not decode (a format
    // version written as a string, a cart that is not a message of a cart). Both paths agree.
    func testUnknownFieldsAreSkippedAndARepeatedFieldKeepsItsLastValue() throws {
        let (state, _, _) = EveryCommandScenario.run()
        let snapshot = state.snapshot()
        var withoutFirstCart = snapshot
        let record = withoutFirstCart.carts.removeFirst()
        let recordBody = try BinaryEncoder().encode(record)
        let cartBody = try BinaryEncoder().encode(record.cart)
        var bytes = Raw.string(1, "not a version") + Raw.bytes(3, Raw.bytes(1, [0xff, 0xff]) + Raw.unknownFields() + recordBody)
        bytes += Raw.unknownFields() + (try BinaryEncoder().encode(withoutFirstCart)) + Raw.unknownFields()
        XCTAssertEqual(try codec.decode(bytes), snapshot)
        assertSameAnswer(bytes, "unknown and repeated fields")
        // The record's cart written twice, the first one damaged: the last one counts.
        bytes = Raw.bytes(3, Raw.bytes(1, cartBody + [0x08]) + recordBody) + (try BinaryEncoder().encode(withoutFirstCart))
        XCTAssertEqual(try codec.decode(bytes), snapshot)
        assertSameAnswer(bytes, "a damaged earlier cart")
        // The same damage in the last occurrence is an error on both paths.
        bytes = Raw.bytes(3, recordBody + Raw.bytes(1, cartBody + [0x08])) + (try BinaryEncoder().encode(withoutFirstCart))
        XCTAssertThrowsError(try codec.decode(bytes))
        assertSameAnswer(bytes, "a damaged last cart")
    }

    // MARK: damaged input

    // Every prefix of a snapshot is refused with a typed error (a snapshot ends with its
    // counts, so a cut one never restores), and both paths give the same answer for it.
    func testTruncationAtEveryOffsetIsATypedErrorOnBothPaths() throws {
        let (state, _, _) = EveryCommandScenario.run()
        let bytes = try state.encodedSnapshot(using: codec)
        for length in 0..<bytes.count {
            let prefix = Array(bytes[..<length])
            assertSameAnswer(prefix, "length \(length) of \(bytes.count)")
            XCTAssertThrowsError(try PartitionState(snapshotBytes: prefix, using: codec), "length \(length) of \(bytes.count)")
        }
    }

    // Random byte changes, insertions and deletions in valid snapshots: both paths give the
    // same answer, and the codec either refuses the bytes with a `SnapshotError` or restores a
    // state that holds up (it re-encodes to bytes that restore to itself). Never a crash.
    func testMutatedSnapshotsGetTheCodableAnswerAndNeverCrash() throws {
        let seed = seed()
        var random = SeededRandom(seed: seed)
        var bases = [try EveryCommandScenario.run().state.encodedSnapshot(using: codec)]
        for run in 0..<3 {
            let states = randomStates(seed: seed &+ UInt64(run), limits: limits(forRun: 0), commands: 150)
            bases.append(try XCTUnwrap(states.last).state.encodedSnapshot(using: codec))
        }
        var restoredCount = 0
        for iteration in 0..<mutationsPerRun {
            var bytes = bases[iteration % bases.count]
            for _ in 0..<Int.random(in: 1...3, using: &random) { mutate(&bytes, using: &random) }
            let context = "seed \(seed) mutation \(iteration)"
            assertSameAnswer(bytes, context)
            let restored: PartitionState
            do { restored = try PartitionState(snapshotBytes: bytes, using: codec) } catch { continue }
            restoredCount += 1
            XCTAssertTrue(try PartitionState(snapshotBytes: restored.encodedSnapshot(using: codec), using: codec) == restored, context)
        }
        print("SnapshotWireTests: \(restoredCount) of \(mutationsPerRun) mutated snapshots still restored")
    }

    // The codec's limits bound the hand-written path: nesting deeper than `depthMax`, more
    // fields than `elementsMax` or more bytes than `bytesMax` is refused by both paths, and by
    // the codec as `undecodable`.
    func testTheCodecLimitsBoundTheHandWrittenPath() throws {
        let (state, _, _) = EveryCommandScenario.run()
        let bytes = try state.encodedSnapshot(using: codec)
        let cases: [(WireLimits, WireEncodingError.Kind)] = [
            (WireLimits(depthMax: 2, elementsMax: 1 << 20, bytesMax: 1 << 20), .depthExceeded),
            (WireLimits(depthMax: 32, elementsMax: 50, bytesMax: 1 << 20), .elementsExceeded),
            (WireLimits(depthMax: 32, elementsMax: 1 << 20, bytesMax: bytes.count - 1), .bytesExceeded),
        ]
        for (limits, kind) in cases {
            XCTAssertThrowsError(try BinaryDecoder(limits: limits).decode(PartitionSnapshot.self, from: bytes), "\(kind)") { error in
                XCTAssertEqual((error as? WireEncodingError)?.kind, kind)
            }
            XCTAssertThrowsError(try codableDecode(PartitionSnapshot.self, bytes, limits: limits), "\(kind)")
            XCTAssertThrowsError(try PartitionState(snapshotBytes: bytes, using: BinarySnapshotCodec(limits: limits)), "\(kind)") { error in
                XCTAssertEqual((error as? SnapshotError)?.code, .undecodable)
            }
        }
        XCTAssertTrue(try PartitionState(snapshotBytes: bytes, using: BinarySnapshotCodec(limits: WireLimits(bytesMax: bytes.count))) == state)
    }

    // MARK: helpers

    /// The Codable paths: inside these functions `T` is only known to be Codable, so the
    /// generic encoder and decoder run even for a `WireMessage`.
    private func codableEncode<T: Encodable>(_ value: T) throws -> [UInt8] { try BinaryEncoder().encode(value) }
    private func codableDecode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], limits: WireLimits? = nil) throws(WireEncodingError) -> T {
        try BinaryDecoder(limits: limits ?? codec.limits).decode(type, from: bytes)
    }

    /// Checks that both paths write the same bytes for `snapshot` and read each other's
    /// bytes back to it; returns the bytes, or nil (after failing) when they differ.
    @discardableResult
    private func assertBothPathsAgree(on snapshot: PartitionSnapshot, _ context: String,
                                      file: StaticString = #filePath, line: UInt = #line) throws -> [UInt8]? {
        let fast = try codec.encode(snapshot)
        let codable = try codableEncode(snapshot)
        guard fast == codable else {
            let first = zip(fast, codable).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(fast.count, codable.count)
            XCTFail("\(context): hand-written bytes differ from Codable's at byte \(first) (\(fast.count) and \(codable.count) bytes)",
                    file: file, line: line)
            return nil
        }
        XCTAssertTrue(try codec.decode(codable) == snapshot, "\(context): hand-written decode of the Codable bytes differs", file: file, line: line)
        XCTAssertTrue(try codableDecode(PartitionSnapshot.self, fast) == snapshot, "\(context): Codable decode of the hand-written bytes differs",
                      file: file, line: line)
        return fast
    }

    /// Both decoders give an equal snapshot, or both fail (with a `WireEncodingError`; which
    /// error is not compared, since the paths may meet two faults of one input in another order).
    private func assertSameAnswer(_ bytes: [UInt8], _ context: String, file: StaticString = #filePath, line: UInt = #line) {
        let fast = Result { () throws(WireEncodingError) in try BinaryDecoder(limits: codec.limits).decode(PartitionSnapshot.self, from: bytes) }
        let codable = Result { () throws(WireEncodingError) in try codableDecode(PartitionSnapshot.self, bytes) }
        switch (fast, codable) {
        case (.success(let fastValue), .success(let codableValue)):
            XCTAssertTrue(fastValue == codableValue, "\(context): the paths decode different snapshots", file: file, line: line)
        case (.failure, .failure):
            break
        default:
            XCTFail("\(context)\nhand-written: \(fast.map { _ in "a snapshot" })\nCodable: \(codable.map { _ in "a snapshot" })", file: file, line: line)
        }
    }

    private func limits(forRun run: Int) -> DomainLimits {
        var limits = DomainLimits()
        if run % 2 == 0 {
            limits.quantityMax = 10
            limits.itemsPerCartMax = 4
            limits.sharedUsersMax = 2
            limits.dedupEntriesMax = 50
            limits.historyEventsPerCartMax = 8
            limits.reservationsSettledMax = 5
        } else {
            limits.dedupEntriesMax = 400
        }
        return limits
    }

    /// The state every `snapshotEveryCommands` commands of a random run (see `Workload`), and
    /// at its end.
    private func randomStates(seed: UInt64, limits: DomainLimits, commands: Int? = nil) -> [(step: Int, state: PartitionState)] {
        var workload = Workload(seed: seed, lifecycles: 12)
        var state = PartitionState(limits: limits)
        var states: [(step: Int, state: PartitionState)] = []
        var step = 0
        while !workload.isDone || step < (commands ?? commandsPerRun) {
            step += 1
            let (command, key) = workload.next(for: state)
            state.apply(command, at: Timestamp(millisecondsSinceEpoch: 1_700_000_000_000 + Int64(step)), request: key)
            if step % snapshotEveryCommands == 0 { states.append((step, state)) }
            if let commands, step >= commands { break }
        }
        states.append((step, state))
        return states
    }

    private func mutate(_ bytes: inout [UInt8], using random: inout SeededRandom) {
        let position = Int.random(in: 0...bytes.count, using: &random)
        switch Int.random(in: 0..<3, using: &random) {
        case 0 where position < bytes.count: bytes[position] = UInt8.random(in: 0...255, using: &random)
        case 1 where position < bytes.count: bytes.remove(at: position)
        default: bytes.insert(UInt8.random(in: 0...255, using: &random), at: position)
        }
    }

    // MARK: wild values (any value the types can hold, not only what the domain produces)

    private func wildBytes(_ values: inout EnvelopeGenerator, countMax: Int) -> [UInt8] {
        (0..<Int.random(in: 0...countMax, using: &values.random)).map { _ in UInt8.random(in: 0...255, using: &values.random) }
    }

    private func wildLines(_ values: inout EnvelopeGenerator) -> [StockLine] {
        (0..<Int.random(in: 0...3, using: &values.random)).map { _ in StockLine(item: ItemID(values.text()), quantity: values.signed()) }
    }

    /// A cart event of change kind `kind % 10`.
    private func wildCartEvent(_ values: inout EnvelopeGenerator, cart: CartID, kind: Int) -> CartEvent {
        let user = UserID(values.text()), item = ItemID(values.text()), checkout = CheckoutID(values.text())
        let change: CartChange = switch kind % 10 {
        case 0: .created(CartCreated(owner: user))
        case 1: .itemAdded(CartItemAdded(actor: user, line: CartLine(item: item, quantity: values.signed(), unitPrice: Money(minorUnits: values.signed())),
                                         quantityAdded: values.signed()))
        case 2: .itemRemoved(CartItemRemoved(actor: user, item: item))
        case 3: .modified(CartModified(actor: user, item: item, quantity: values.signed()))
        case 4: .shared(CartShared(user: user))
        case 5: .unshared(CartUnshared(user: user))
        case 6: .checkoutStarted(CartCheckoutStarted(actor: user, checkout: checkout, lines: wildLines(&values), total: Money(minorUnits: values.signed())))
        case 7: .checkout(CartCheckout(checkout: checkout, total: Money(minorUnits: values.signed())))
        case 8: .checkoutAborted(CartCheckoutAborted(checkout: checkout, reason: values.text()))
        default: .checkoutSettled(CartCheckoutSettled(checkout: checkout))
        }
        return CartEvent(cart: cart, seq: Seq(values.integer()), version: Version(values.integer()),
                         timestamp: Timestamp(millisecondsSinceEpoch: values.signed()), change: change)
    }

    /// `count` events of any kind: cart, item and user events.
    private func wildEvents(_ values: inout EnvelopeGenerator, count: Int) -> [Event] {
        (0..<count).map { _ in
            let checkout = CheckoutID(values.text()), user = UserID(values.text())
            switch Int.random(in: 0..<9, using: &values.random) {
            case 0: return .cart(wildCartEvent(&values, cart: CartID(values.text()), kind: Int.random(in: 0..<10, using: &values.random)))
            case 1: return .item(.itemPut(ItemPut(item: Item(id: ItemID(values.text()), name: values.text(), price: Money(minorUnits: values.signed()),
                                                             stock: values.signed(), reserved: values.signed()))))
            case 2: return .item(.stockAdjusted(StockAdjusted(item: ItemID(values.text()), delta: values.signed(), stock: values.signed())))
            case 3: return .item(.stockReserved(StockReserved(checkout: checkout, lines: wildLines(&values))))
            case 4: return .item(.stockReleased(StockReleased(checkout: checkout, lines: wildLines(&values))))
            case 5: return .item(.reservationCommitted(ReservationCommitted(checkout: checkout, lines: wildLines(&values))))
            case 6: return .user(.registered(UserRegistered(user: user, passwordHash: wildBytes(&values, countMax: 200),
                                                           timestamp: Timestamp(millisecondsSinceEpoch: values.signed()))))
            case 7: return .user(.cartLinked(UserCartLinked(user: user, link: CartLink(cart: CartID(values.text()), role: .shared))))
            default: return .user(.cartUnlinked(UserCartUnlinked(user: user, cart: CartID(values.text()))))
            }
        }
    }
}

/// A random workload that reaches every kind of record a snapshot holds: the property tests'
/// generator (any command, valid or not, against four carts, with retried request keys)
/// interleaved with random cart lifecycles on carts of their own. Each lifecycle registers and
/// links its owner, adds, re-quantifies and removes items, shares and unshares (with the
/// users' links), sometimes runs long enough to wrap its history, and ends in a random phase
/// of the checkout saga: active, pending, reserved, completed, committed, settled, aborted,
/// released. Half of the lifecycle commands carry a request key.
private struct Workload {
    private var random: SeededRandom
    private var chaos: CommandGenerator
    private var setup: [Command]
    private var plans: [[(PartitionState) -> Command]]
    private var request: UInt64 = 0
    private static let users: [UserID] = ["alice", "bob", "carol", "dave", "erin"]
    private static let items = (0..<4).map { ItemID("life-sku-\($0)") }

    init(seed: UInt64, lifecycles: Int) {
        random = SeededRandom(seed: seed)
        chaos = CommandGenerator(seed: seed ^ 0x5A5A_5A5A)
        setup = Self.items.map { .putItem(PutItem(item: $0, name: "Life \($0)", price: Money(minorUnits: 100), initialStock: 1_000_000)) }
        plans = []
        for index in 0..<lifecycles {
            // Half of the ids too long to be stored inline in a String.
            let cart = CartID(index % 2 == 0 ? "life-\(index)" : "life-\(index)-6f1c2a9e-4b7d-4e8a-9c3f")
            plans.append(Self.plan(cart, checkout: CheckoutID("life-k-\(index)"), random: &random))
        }
    }

    var isDone: Bool { setup.isEmpty && plans.allSatisfy(\.isEmpty) }

    mutating func next(for state: PartitionState) -> (Command, RequestKey?) {
        if !setup.isEmpty { return (setup.removeFirst(), nil) }
        let open = plans.indices.filter { !plans[$0].isEmpty }
        if open.isEmpty || random.chance(35) { return chaos.next(for: state) }
        let command = plans[random.pick(open)].removeFirst()(state)
        request += 1
        return (command, random.chance(50) ? RequestKey(client: ClientID(100), request: RequestID(request)) : nil)
    }

    private static func plan(_ cart: CartID, checkout: CheckoutID, random: inout SeededRandom) -> [(PartitionState) -> Command] {
        let owner = random.pick(users)
        let others = users.filter { $0 != owner }
        let items = Array(Self.items.prefix(Int.random(in: 1...4, using: &random)))
        var steps: [(PartitionState) -> Command] = []
        func add(_ command: Command) { steps.append { _ in command } }
        add(.registerUser(RegisterUser(user: owner, passwordHash: (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) })))
        add(.createCart(CreateCart(cart: cart, owner: owner)))
        add(.linkCart(LinkCart(user: owner, cart: cart, role: .owner, cartSeq: random.chance(80) ? Seq(1) : nil)))
        for item in items {
            add(.addItem(AddItem(cart: cart, actor: owner, item: item, quantity: Int64.random(in: 1...3, using: &random),
                                 unitPrice: Money(minorUnits: Int64.random(in: 1...2_000, using: &random)))))
        }
        if random.chance(70) { add(.setQuantity(SetQuantity(cart: cart, actor: owner, item: items[0], quantity: Int64.random(in: 1...5, using: &random)))) }
        if items.count > 1 && random.chance(50) { add(.removeItem(RemoveItem(cart: cart, actor: owner, item: items[items.count - 1]))) }
        if random.chance(70) {
            let shared = Array(others.shuffled(using: &random).prefix(Int.random(in: 1...2, using: &random)))
            add(.shareCart(ShareCart(cart: cart, actor: owner, users: shared)))
            // Marks with seqs, some arriving out of order (an unlink before its link).
            let shareSeq = Seq(UInt64.random(in: 2...20, using: &random))
            let unshare = random.chance(50)
            if unshare && random.chance(50) { add(.unlinkCart(UnlinkCart(user: shared[0], cart: cart, cartSeq: shareSeq.next))) }
            for user in shared { add(.linkCart(LinkCart(user: user, cart: cart, role: .shared, cartSeq: shareSeq))) }
            if unshare {
                add(.unshareCart(UnshareCart(cart: cart, actor: owner, user: shared[0])))
                add(.unlinkCart(UnlinkCart(user: shared[0], cart: cart, cartSeq: random.chance(70) ? shareSeq.next : nil)))
            }
        }
        // Some of the cart's pending links confirmed (what a node does once they are recorded).
        if random.chance(60) {
            let keep = random.chance(50)
            steps.append { state in
                let pending = state.linksPending[cart] ?? []
                return .confirmLinks(ConfirmLinks(links: pending.enumerated().filter { keep || $0.offset % 2 == 0 }
                    .map { LinkAtSeq(cart: cart, user: $0.element.user, seq: $0.element.seq) }))
            }
        }
        // Some carts outlive any history limit, so their histories forget their oldest events.
        let edits = random.chance(25) ? Int.random(in: 60...80, using: &random) : Int.random(in: 0...6, using: &random)
        for _ in 0..<edits {
            add(.setQuantity(SetQuantity(cart: cart, actor: owner, item: items[0], quantity: Int64.random(in: 1...5, using: &random))))
        }
        let phase = Int.random(in: 0...8, using: &random)
        if phase >= 1 { add(.beginCheckout(BeginCheckout(cart: cart, actor: owner, checkout: checkout))) }
        if (2...7).contains(phase) {
            steps.append { state in .reserveStock(ReserveStock(checkout: checkout, lines: state.carts[cart]?.checkout?.lines ?? [])) }
        }
        if (3...5).contains(phase) { add(.completeCheckout(CompleteCheckout(cart: cart, checkout: checkout))) }
        if (4...5).contains(phase) { add(.commitReservation(CommitReservation(checkout: checkout))) }
        if phase >= 6 { add(.abortCheckout(AbortCheckout(cart: cart, checkout: checkout, reason: "out of stock"))) }
        if phase >= 7 { add(.releaseStock(ReleaseStock(checkout: checkout))) }  // phase 8: never reserved, a tombstone
        if phase == 5 || phase >= 7 { add(.settleCheckout(SettleCheckout(cart: cart, checkout: checkout))) }
        return steps
    }
}

/// What the random snapshots held, so that the test proves it met every kind of record.
private struct Coverage {
    var historyChanges: Set<String> = []
    var rememberedEvents: Set<String> = []
    var refusals: Set<UInt16> = []
    var cartStatuses: Set<CartStatus> = []
    var checkouts: Set<String> = []
    var reservations: Set<String> = []
    var sharedCarts = 0
    var userLinks = 0
    var linkMarks: Set<Bool> = []
    var pendingLinks: Set<Bool> = []
    var wrappedHistories = 0

    mutating func record(_ snapshot: PartitionSnapshot) {
        for record in snapshot.carts {
            historyChanges.formUnion(record.history.events.map(\.change.name))
            cartStatuses.insert(record.cart.status)
            if let checkout = record.cart.checkout { checkouts.insert("\(checkout.outcome)\(checkout.settled ? ", settled" : "")") }
            if !record.cart.sharedUsers.isEmpty { sharedCarts += 1 }
            if let first = record.history.events.first, first.seq > Seq(1) { wrappedHistories += 1 }
            for link in record.linksPending?.links ?? [] { pendingLinks.insert(link.linked) }
        }
        reservations.formUnion(snapshot.reservationsHeld.map { "held \($0.status)" })
        reservations.formUnion(snapshot.reservationsSettled.map { "settled \($0.status)" })
        userLinks += snapshot.users.reduce(0) { $0 + $1.carts.count }
        for user in snapshot.users { linkMarks.formUnion(user.linkMarks.map(\.linked)) }
        for entry in snapshot.dedup {
            switch entry.outcome {
            case .accepted(let events): rememberedEvents.formUnion(events.map(\.name))
            case .refused(let error): refusals.insert(error.code)
            }
        }
    }

    func assertComplete(_ context: String, file: StaticString = #filePath, line: UInt = #line) {
        let changes = ["CartCreated", "CartItemAdded", "CartItemRemoved", "CartModified", "CartShared", "CartUnshared",
                       "CartCheckoutStarted", "CartCheckout", "CartCheckoutAborted", "CartCheckoutSettled"]
        XCTAssertEqual(historyChanges, Set(changes), "\(context): change kinds in histories", file: file, line: line)
        let remembered = changes + ["ItemPut", "StockAdjusted", "StockReserved", "StockReleased", "ReservationCommitted",
                                    "UserRegistered", "UserCartLinked", "UserCartUnlinked", "LinksConfirmed"]
        XCTAssertEqual(rememberedEvents, Set(remembered), "\(context): event kinds in dedup outcomes", file: file, line: line)
        XCTAssertGreaterThan(refusals.count, 4, "\(context): refused outcomes \(refusals)", file: file, line: line)
        XCTAssertEqual(cartStatuses, [.active, .checkingOut, .checkedOut], "\(context): cart statuses", file: file, line: line)
        XCTAssertEqual(checkouts, ["pending", "completed", "completed, settled", "aborted", "aborted, settled"],
                       "\(context): checkout phases", file: file, line: line)
        XCTAssertEqual(reservations, ["held held", "settled committed", "settled released"], "\(context): reservations", file: file, line: line)
        XCTAssertGreaterThan(sharedCarts, 0, "\(context): shared carts", file: file, line: line)
        XCTAssertGreaterThan(userLinks, 0, "\(context): user cart links", file: file, line: line)
        XCTAssertEqual(linkMarks, [true, false], "\(context): users' link marks, of links and of removals", file: file, line: line)
        XCTAssertEqual(pendingLinks, [true, false], "\(context): carts' pending links and unlinks", file: file, line: line)
        XCTAssertGreaterThan(wrappedHistories, 0, "\(context): histories that forgot their oldest events", file: file, line: line)
    }
}

/// Hand-built fields, for inputs the encoder never writes (unknown and repeated fields).
private enum Raw {
    static func varintBytes(_ value: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        Varint.append(value, to: &bytes)
        return bytes
    }

    static func tag(_ field: UInt32, _ wireType: WireType) -> [UInt8] { varintBytes(FieldTag.make(field: field, wireType: wireType)) }
    static func varint(_ field: UInt32, _ value: UInt64) -> [UInt8] { tag(field, .varint) + varintBytes(value) }
    static func bytes(_ field: UInt32, _ value: [UInt8]) -> [UInt8] { tag(field, .lengthDelimited) + varintBytes(UInt64(value.count)) + value }
    static func string(_ field: UInt32, _ value: String) -> [UInt8] { bytes(field, Array(value.utf8)) }

    /// One unknown field of each wire type, numbered above every field a snapshot uses.
    static func unknownFields() -> [UInt8] {
        varint(100, 5) + tag(101, .fixed64) + [1, 2, 3, 4, 5, 6, 7, 8] + tag(102, .fixed32) + [1, 2, 3, 4] + string(103, "future")
    }
}
