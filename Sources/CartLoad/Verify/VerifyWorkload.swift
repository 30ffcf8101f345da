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
        let ledger = WriteLedger()
        var report = await write(options, users, ledger)
        report.verify = await check(options, users, ledger)
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

    static func write(_ options: CartLoadOptions, _ users: LoadUsers, _ ledger: WriteLedger) async -> CartLoadReport {
        let owners = Owners(users: users.clients.count)
        return await CartLoadRunner.measure(options, retries: { users.retries }) { meter, _, end in
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<options.concurrency {
                    group.addTask { await writeCarts(users, ledger, meter, owners, end: end) }
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
