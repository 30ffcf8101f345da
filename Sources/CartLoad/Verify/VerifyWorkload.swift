import CartAPI
import CartClient
import CartDomain
import CartTypes
import NIOConcurrencyHelpers

/// `cartload carts --mode verify`: writes carts whose every change is accounted for, then
/// reads them back and checks the cluster kept its promises, so a run with nodes killed,
/// frozen and restarted under it (`tools/soak-chaos`) shows whether any acknowledged change
/// was lost, applied twice or reordered, and whether the replicas agree.
///
/// Writing: `concurrency` workers each create a cart, add `addsPerCart` different items to it
/// one at a time (quantity 1), and go on to a new cart, until the run's time is up. Every
/// request that gets no answer is repeated with the same request key until it does, for at
/// most `answerWaitMs`, well inside the nodes' dedup retention, so a repeat is never applied
/// twice; an add still unanswered then is recorded as such (it may or may not be applied).
///
/// Checking (`LedgerCheck`): each cart's history through its leader against what the workload
/// was told, then each node's own copy of the history (a watch from seq 1 on that node, served
/// by its replica) against the leader's.
///
/// Meanwhile a few checkout workers race for the units of a few scarce items, which a
/// restocker tops up a little at a time (`StockLedger`); once every checkout has settled,
/// each unit an item lost must be in exactly one checked-out cart (`StockCheck`).
enum VerifyWorkload {
    /// Adds per cart: with its creation, within the 64 events a cart keeps
    /// (`DomainLimits.historyEventsPerCartMax`), so its whole history can be read back.
    static let addsPerCart = 60
    /// Carts each load user owns at most (the domain allows 1,000 per user).
    static let cartsPerUserMax = 900
    /// How long a request is repeated with its key before its outcome counts as unknown: well
    /// inside the nodes' dedup retention (`DomainLimits.dedupRetentionMs`, 30 s), so a repeat
    /// can never apply it a second time.
    static let answerWaitMs: UInt64 = 20_000
    /// Each call's own deadline, retries included, so a repeat started at the end of
    /// `answerWaitMs` still ends inside the retention.
    static let callTimeoutMs: Int64 = 5_000
    /// Pause between repeats of an unanswered request.
    static let repeatPauseMs: UInt64 = 100
    /// Longest wait for one node to serve one cart's events (it may still be catching up).
    static let replicaReadTimeoutMs: UInt64 = 30_000
    /// Carts read back at once.
    static let readConcurrency = 32
    /// Scarce items, their first stock, and the units each gets every `restockIntervalMs`:
    /// far fewer than the checkout workers would take, so the stock runs out between restocks
    /// and checkouts race for the last units.
    static let scarceItems = 4
    static let scarceInitialStock: Int64 = 20
    static let restockUnits: Int64 = 5
    static let restockIntervalMs: UInt64 = 200
    /// Longest wait, after writing, for every checkout to settle (nothing reserved, no cart
    /// checking out).
    static let settleWaitMs: UInt64 = 60_000

    /// Checkout workers beside `concurrency` add workers.
    static func checkoutWorkers(_ concurrency: Int) -> Int { max(2, concurrency / 8) }

    static func run(_ options: CartLoadOptions) async throws -> CartLoadReport {
        var options = options
        options.items = addsPerCart
        let prepared = try await LoadUsers.prepare(options)
        // The same users, with clients whose calls give up sooner (`callTimeoutMs`).
        let users = LoadUsers(names: prepared.names, clients: try prepared.names.map { user in
            var configuration = LoadUsers.configuration(options, token: try LoadUsers.token(for: user, options.identity))
            configuration.operationTimeoutMs = callTimeoutMs
            return CartClient(configuration: configuration)
        }, items: prepared.items)
        await prepared.shutdown()
        var adminConfiguration = LoadUsers.configuration(options, token: try LoadUsers.token(for: options.admin, options.identity))
        adminConfiguration.operationTimeoutMs = callTimeoutMs
        let admin = CartClient(configuration: adminConfiguration)
        // Named for this run, so each starts with the stock the ledger says.
        let run = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        var scarce: [ScarceItem] = []
        do {
            for index in 0..<scarceItems {
                let item = ItemID("\(options.namePrefix)-scarce-\(run)-\(index)")
                _ = try await admin.putItem(item, name: "scarce item \(index)", price: LoadUsers.itemPrice, initialStock: scarceInitialStock)
                scarce.append(ScarceItem(item: item, supplied: scarceInitialStock))
            }
        } catch {
            await admin.shutdown()
            await users.shutdown()
            throw error
        }
        let ledger = WriteLedger()
        let stock = StockLedger(items: scarce)
        var report = await write(options, users, ledger, stock, admin)
        var figures = await check(options, users, ledger)
        await checkStock(users, admin, ledger: stock, into: &figures)
        report.verify = figures
        await admin.shutdown()
        await users.shutdown()
        return report
    }

    // MARK: Writing

    enum Answer<T> {
        case answered(T)
        /// Still failing when `answerWaitMs` ran out, the last time with this.
        case unanswered(last: CartClientError)
        case refused(CartClientError)

        var error: CartClientError? {
            switch self {
            case .answered: nil
            case .unanswered(let error), .refused(let error): error
            }
        }
    }

    /// Hands out cart owners round robin, `cartsPerUserMax` carts per user at most.
    final class Owners: Sendable {
        private let next = NIOLockedValueBox(0)
        let users: Int

        init(users: Int) { self.users = users }

        func take() -> Int? {
            next.withLockedValue { next in
                guard next < users * VerifyWorkload.cartsPerUserMax else { return nil }
                defer { next += 1 }
                return next % users
            }
        }
    }

    static func write(_ options: CartLoadOptions, _ users: LoadUsers, _ ledger: WriteLedger, _ stock: StockLedger,
                      _ admin: CartClient) async -> CartLoadReport {
        let owners = Owners(users: users.clients.count)
        return await CartLoadRunner.measure(options, retries: { users.retries }) { meter, _, end in
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<options.concurrency {
                    group.addTask { await writeCarts(users, ledger, meter, owners, end: end) }
                }
                let workers = checkoutWorkers(options.concurrency)
                for _ in 0..<workers {
                    group.addTask { await checkOutCarts(users, ledger, stock, meter, owners, end: end) }
                }
                group.addTask { await restock(admin, stock, end: end) }
            }
        }
    }

    /// One checkout worker: a cart of its own, `1...3` units of any scarce item in it, then a
    /// checkout; a new cart after each checkout, whatever its outcome. An add refused because
    /// the stock is short waits for the next restock and tries again on the same cart.
    static func checkOutCarts(_ users: LoadUsers, _ ledger: WriteLedger, _ stock: StockLedger,
                              _ meter: LoadMeter, _ owners: Owners, end: UInt64) async {
        let scarce = stock.items.map(\.item)
        var held: (cart: CartID, ownerIndex: Int)?
        while LoadMeter.nowNanos() < end {
            if held == nil {
                guard let ownerIndex = owners.take() else { return }
                let client = users.clients[ownerIndex]
                let key = client.makeRequestKey()
                switch await answer(meter, .create, { () async throws(CartClientError) in try await client.createCart(requestKey: key) }) {
                case .answered(let reply): held = (reply.cart, ownerIndex)
                case .unanswered: continue
                case .refused(let error):
                    ledger.violation(LedgerViolation(cart: CartID("(new)"), "a creation by \(users.names[ownerIndex]) was refused: \(error)"))
                    return
                }
            }
            guard let (cart, ownerIndex) = held else { continue }
            let client = users.clients[ownerIndex]
            // Any item, so that the workers race for the same units.
            let item = scarce.randomElement()!
            let quantity = Int64.random(in: 1...3)
            let addKey = client.makeRequestKey()
            switch await answer(meter, .add, { () async throws(CartClientError) in
                try await client.addItem(cart, item: item, quantity: quantity, requestKey: addKey)
            }) {
            case .answered:
                break
            case .refused(let error):
                if Self.isShort(error) {
                    stock.addOutOfStock()
                    try? await Task.sleep(for: .milliseconds(restockIntervalMs))
                } else {
                    ledger.violation(LedgerViolation(cart: cart, "the add of \(quantity) × \(item) was refused: \(error)"))
                    held = nil
                }
                continue
            case .unanswered:
                // The cart may or may not hold the units: leave it.
                held = nil
                continue
            }
            let checkoutKey = client.makeRequestKey()
            let outcome: CheckoutCart.Outcome
            switch await answer(meter, .checkout, { () async throws(CartClientError) in
                try await client.checkout(cart, requestKey: checkoutKey)
            }) {
            case .answered: outcome = .completed
            case .unanswered: outcome = .unanswered
            case .refused(let error):
                // Short stock, or a retry told the checkout was aborted, or a saga that gave up
                // under the faults: the cart must then be active (`StockCheck`).
                outcome = .refused
                if error.code != .failedPrecondition { ledger.violation(LedgerViolation(cart: cart, "the checkout was refused: \(error)")) }
            }
            stock.finished(CheckoutCart(cart: cart, ownerIndex: ownerIndex, item: item, quantity: quantity, outcome: outcome))
            held = nil
        }
    }

    /// An add refused because the item's stock was short.
    static func isShort(_ error: CartClientError) -> Bool {
        error.code == .failedPrecondition && error.message.contains("insufficient stock")
    }

    /// Adds `restockUnits` to each scarce item every `restockIntervalMs` until `end`.
    static func restock(_ admin: CartClient, _ stock: StockLedger, end: UInt64) async {
        while LoadMeter.nowNanos() < end {
            try? await Task.sleep(for: .milliseconds(restockIntervalMs))
            for item in stock.items where item.supplied != nil {
                let key = admin.makeRequestKey()
                let outcome = await answer { () async throws(CartClientError) in
                    try await admin.adjustStock(item.item, delta: restockUnits, requestKey: key)
                }
                if case .answered = outcome {
                    stock.restocked(item.item, units: restockUnits, acknowledged: true)
                } else {
                    stock.restocked(item.item, units: restockUnits, acknowledged: false)
                }
            }
        }
    }

    /// One worker: a cart at a time, its adds one at a time, until `end` or no owner has
    /// room for another cart.
    static func writeCarts(_ users: LoadUsers, _ ledger: WriteLedger, _ meter: LoadMeter, _ owners: Owners,
                           end: UInt64) async {
        while LoadMeter.nowNanos() < end, let ownerIndex = owners.take() {
            let client = users.clients[ownerIndex]
            let createKey = client.makeRequestKey()
            let cart: CartID
            switch await answer(meter, .create, { () async throws(CartClientError) in try await client.createCart(requestKey: createKey) }) {
            case .answered(let reply): cart = reply.cart
            case .unanswered:
                ledger.createUnanswered()
                continue
            case .refused(let error):
                ledger.violation(LedgerViolation(cart: CartID("(new)"), "a creation by \(users.names[ownerIndex]) was refused: \(error)"))
                return
            }
            var entry = LedgerCart(cart: cart, owner: users.names[ownerIndex], ownerIndex: ownerIndex)
            for item in users.items.prefix(addsPerCart) {
                guard LoadMeter.nowNanos() < end else { break }
                let key = client.makeRequestKey()
                let outcome = await answer(meter, .add) { () async throws(CartClientError) in
                    try await client.addItem(cart, item: item, quantity: 1, requestKey: key)
                }
                switch outcome {
                case .answered: entry.adds.append(.init(item: item, outcome: .acknowledged))
                case .unanswered: entry.adds.append(.init(item: item, outcome: .unanswered))
                case .refused(let error):
                    ledger.violation(LedgerViolation(cart: cart, "the add of \(item) was refused: \(error)"))
                }
                if case .refused = outcome { break }
            }
            ledger.finished(entry)
        }
    }

    /// Calls `call` until it is answered, repeating it (the caller keeps the request key)
    /// after failures that are not the domain's answers, for at most `answerWaitMs`.
    static func answer<T>(_ call: () async throws(CartClientError) -> T) async -> Answer<T> {
        let giveUp = LoadMeter.nowNanos() + answerWaitMs * 1_000_000
        while true {
            do throws(CartClientError) {
                return .answered(try await call())
            } catch {
                if LoadMeter.refusals.contains(error.code) { return .refused(error) }
                if LoadMeter.nowNanos() >= giveUp { return .unanswered(last: error) }
                try? await Task.sleep(for: .milliseconds(repeatPauseMs))
            }
        }
    }

    /// `answer(call)`, recorded in `meter` as one `operation` from the first attempt.
    static func answer<T>(_ meter: LoadMeter, _ operation: CartOperation,
                          _ call: () async throws(CartClientError) -> T) async -> Answer<T> {
        let start = LoadMeter.nowNanos()
        let outcome = await answer(call)
        meter.record(operation.rawValue, startNanos: start, error: outcome.error?.code)
        return outcome
    }

    // MARK: Checking

    static func check(_ options: CartLoadOptions, _ users: LoadUsers, _ ledger: WriteLedger) async -> VerifyFigures {
        let carts = ledger.carts
        var figures = VerifyFigures(carts: carts.count, violations: ledger.violations, createsUnanswered: ledger.createsUnanswered)
        for cart in carts {
            figures.addsAcknowledged += cart.adds.count(where: { $0.outcome == .acknowledged })
            figures.addsUnanswered += cart.adds.count(where: { $0.outcome == .unanswered })
        }

        // Through the leaders.
        let histories = await forEach(carts) { cart in await readHistory(users.clients[cart.ownerIndex], cart.cart) }
        var readBack: [(LedgerCart, [CartEvent])] = []
        for (cart, history) in zip(carts, histories) {
            guard let history else {
                figures.cartsUnread.append(cart.cart)
                continue
            }
            let verdict = LedgerCheck.check(cart, history: history)
            figures.violations += verdict.violations
            figures.unansweredApplied += verdict.unansweredApplied
            readBack.append((cart, history))
        }

        // Each node's own copy, from a watch on that node.
        let members: [(node: String, endpoint: Endpoint)]
        do {
            let status = try await users.clients[0].clusterStatus()
            members = status.nodes.compactMap { member in
                (try? Endpoint(parsing: member.clientAddress)).map { ("node \(member.node.rawValue)", $0) }
            }
        } catch {
            figures.replicaProblems.append("no cluster status to find the nodes by: \(error)")
            return figures
        }
        for member in members {
            let pinned = users.names.map { user in
                var configuration = LoadUsers.configuration(options, token: try? LoadUsers.token(for: user, options.identity))
                configuration.endpoints = [member.endpoint]
                configuration.followLeaders = false
                return CartClient(configuration: configuration)
            }
            let copies = await forEach(readBack) { cart, history in
                await readCopy(pinned[cart.ownerIndex], cart.cart, count: history.count, on: member.endpoint)
            }
            // The same copy again, by a local read: the replica's state rather than its watch path.
            let localCopies = await forEach(readBack) { cart, history in
                await readLocalCopy(pinned[cart.ownerIndex], cart.cart, count: history.count, on: member.endpoint)
            }
            for client in pinned { await client.shutdown() }
            figures.nodes.append(member.node)
            for (way, read) in [("watch", copies), ("local read", localCopies)] {
                var unread = 0
                for ((cart, history), copy) in zip(readBack, read) {
                    guard let copy else {
                        unread += 1
                        continue
                    }
                    figures.copiesCompared += 1
                    if let violation = LedgerCheck.compare(replica: "\(member.node) (\(way))", events: copy, leader: history, cart: cart.cart) {
                        figures.violations.append(violation)
                    }
                }
                if unread > 0 { figures.replicaProblems.append("\(member.node) did not serve \(unread) carts' events in time (\(way))") }
            }
        }
        return figures
    }

    /// The checkout part: waits until every scarce item holds nothing reserved and no
    /// checkout cart is checking out (at most `settleWaitMs`), then checks the items and carts.
    static func checkStock(_ users: LoadUsers, _ admin: CartClient, ledger: StockLedger, into figures: inout VerifyFigures) async {
        let scarce = ledger.items
        let carts = ledger.carts
        figures.scarceItems = scarce.count
        figures.itemsUncounted = scarce.count(where: { $0.supplied == nil })
        figures.addsOutOfStock = ledger.addsOutOfStock
        for cart in carts { figures.checkouts[cart.outcome, default: 0] += 1 }

        // Settled: no cart checking out, then every item read with nothing reserved (a cart
        // checked out may still hold a reservation until its saga commits it). Carts first, so
        // no unit is reserved or sold after its item was read.
        let giveUp = LoadMeter.nowNanos() + settleWaitMs * 1_000_000
        var read = await forEach(carts) { cart in await readCart(users.clients[cart.ownerIndex], cart.cart) }
        var items: [ItemID: Item] = [:]
        while true {
            for (index, cart) in read.enumerated() where (cart == nil || cart?.status == .checkingOut) && LoadMeter.nowNanos() < giveUp {
                read[index] = await readCart(users.clients[carts[index].ownerIndex], carts[index].cart)
            }
            let cartsSettled = !read.contains { $0?.status == .checkingOut }
            items = [:]
            if cartsSettled {
                for item in scarce {
                    if case .answered(let state) = await answer({ () async throws(CartClientError) in try await admin.getItem(item.item) }) {
                        items[item.item] = state
                    }
                }
            }
            let itemsSettled = items.count == scarce.count && items.values.allSatisfy { $0.reserved == 0 }
            if cartsSettled && itemsSettled || LoadMeter.nowNanos() >= giveUp { break }
            try? await Task.sleep(for: .milliseconds(repeatPauseMs))
        }
        var readBack: [(CheckoutCart, Cart)] = []
        for (ledgerCart, cart) in zip(carts, read) {
            guard let cart else {
                figures.checkoutCartsUnread.append(ledgerCart.cart)
                continue
            }
            readBack.append((ledgerCart, cart))
            if cart.status == .checkedOut { figures.unitsSold += cart.line(for: ledgerCart.item)?.quantity ?? 0 }
        }
        figures.violations += StockCheck.check(scarce, items: items, carts: readBack)
    }

    /// The cart through its leader, repeating failed reads for up to `answerWaitMs`.
    static func readCart(_ client: CartClient, _ cart: CartID) async -> Cart? {
        if case .answered(let read) = await answer({ () async throws(CartClientError) in try await client.getCart(cart) }) { return read }
        return nil
    }

    /// `body` over every element, `readConcurrency` at a time; results in the elements' order.
    static func forEach<Element: Sendable, Result: Sendable>(_ elements: [Element],
                                                             _ body: @escaping @Sendable (Element) async -> Result) async -> [Result] {
        await withTaskGroup(of: (Int, Result).self) { group in
            var results = [Result?](repeating: nil, count: elements.count)
            for (index, element) in elements.enumerated() {
                if index >= readConcurrency, let (done, result) = await group.next() { results[done] = result }
                group.addTask { (index, await body(element)) }
            }
            for await (done, result) in group { results[done] = result }
            return results.map { $0! }
        }
    }

    /// The cart's whole history through its leader, repeating failed reads for up to
    /// `answerWaitMs`; nil if none succeeded.
    static func readHistory(_ client: CartClient, _ cart: CartID) async -> [CartEvent]? {
        if case .answered(let history) = await answer({ () async throws(CartClientError) in try await client.allEvents(cart) }) {
            return history
        }
        return nil
    }

    /// The cart's history as the node at `endpoint` holds it (`Cart.events` with `local`),
    /// read again until it has `count` events (the replica may lag its leader by a few
    /// entries) or `replicaReadTimeoutMs` passed; nil if no read succeeded.
    static func readLocalCopy(_ client: CartClient, _ cart: CartID, count: Int, on endpoint: Endpoint) async -> [CartEvent]? {
        let giveUp = LoadMeter.nowNanos() + replicaReadTimeoutMs * 1_000_000
        var last: [CartEvent]?
        while true {
            if let read = try? await client.allEvents(cart, consistency: .local(at: endpoint)).events {
                last = read
                if read.count >= count { return read }
            }
            if LoadMeter.nowNanos() >= giveUp { return last }
            try? await Task.sleep(for: .milliseconds(repeatPauseMs))
        }
    }

    /// The first `count` events of the cart as the node at `endpoint` serves them to a watch
    /// from seq 1 (its own replica's copy); nil if it did not within `replicaReadTimeoutMs`,
    /// or the stream was served elsewhere.
    static func readCopy(_ client: CartClient, _ cart: CartID, count: Int, on endpoint: Endpoint) async -> [CartEvent]? {
        let counters = WatchCounters()
        return await withTaskGroup(of: [CartEvent]?.self) { group in
            group.addTask {
                var events: [CartEvent] = []
                guard count > 0 else { return events }
                do {
                    for try await event in client.watch(cart, fromSeq: Seq(1), counters: counters) {
                        events.append(event)
                        if events.count == count { return counters.endpoint == endpoint ? events : nil }
                    }
                } catch {}
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(replicaReadTimeoutMs))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
