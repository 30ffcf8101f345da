import ArgumentParser
import CartAPI
import CartClient
import CartDomain
import CartTypes

struct CartGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cart", abstract: "Create, change, share, check out and watch carts.",
        subcommands: [CreateCart.self, GetCart.self, AddItem.self, RemoveItem.self, SetQuantity.self, ShareCart.self,
                      UnshareCart.self, Checkout.self, CartEvents.self, WatchCart.self, CartReplicas.self])
}

/// Options every cart write takes.
struct WriteOptions: ParsableArguments {
    @Option(name: .customLong("expect-version"), help: "Fail with a version conflict unless the cart is at this version.")
    var expectVersion: UInt64?

    var expected: Version? { expectVersion.map { Version($0) } }
}

/// Prints a cart write's outcome: the cart, its new version and seq.
func printWrite(_ reply: CartWriteReply, _ global: GlobalOptions, _ what: String) {
    if global.json { return Printer.json(reply) }
    Printer.line("\(what): cart \(reply.cart) is at version \(reply.version.rawValue) (seq \(reply.seq.rawValue))")
}

struct CreateCart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a cart you own; prints its id.")
    @Option(help: "Choose the cart id (default: generated).") var id: String?
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let reply = try await global.withClient { try await $0.createCart(id.map { CartID($0) }) }
        if global.json { return Printer.json(reply) }
        Printer.line(reply.cart.rawValue)
    }
}

/// How `get` and `events` read: at the leader, or one replica's own copy.
struct ReadOptions: ParsableArguments {
    @Flag(help: ArgumentHelp("Read one replica's copy as far as it has applied, without the leader: answers during an "
                             + "election, may miss the latest writes. A note on stderr names the node and how far it had applied."))
    var local = false
    @Option(help: ArgumentHelp("With --local: the node whose copy to read (its id, as `cartctl cluster status` shows it); "
                               + "without it, one of the cart partition's replicas."))
    var node: UInt64?

    func validate() throws {
        if node != nil && !local { throw ValidationError("--node picks the replica of a --local read; add --local") }
    }

    func consistency(_ client: CartClient) async throws -> ReadConsistency {
        guard local else { return .linearizable }
        guard let node else { return .local(at: nil) }
        let status = try await client.clusterStatus()
        guard let member = status.nodes.first(where: { $0.node == NodeID(node) }) else {
            throw CommandFailure("no node \(node) in the cluster (nodes: \(status.nodes.map { "n\($0.node.rawValue)" }.joined(separator: ", ")))")
        }
        return .local(at: try Endpoint(parsing: member.clientAddress))
    }

    /// The note a local read prints on stderr.
    static func note(_ position: ReplicaPosition?) {
        guard let position else { return }
        let leader = position.leader == .none ? "no leader known" : "leader n\(position.leader.rawValue)"
        Printer.note("read locally at n\(position.node.rawValue): applied through index \(position.appliedIndex.rawValue) "
                     + "(commit \(position.commitIndex.rawValue)), \(leader)")
    }
}

struct GetCart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Show a cart: lines, members, version.")
    @Argument var cart: String
    @OptionGroup var read: ReadOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let reply = try await global.withClient { client in try await client.readCart(CartID(cart), try await read.consistency(client)) }
        ReadOptions.note(reply.servedBy)
        if global.json { return Printer.json(reply.cart) }
        Printer.line(Printer.cart(reply.cart))
    }
}

struct AddItem: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add units of an item to a cart.")
    @Argument var cart: String
    @Argument var item: String
    @Option(name: [.customLong("qty"), .customLong("quantity")], parsing: .unconditional, help: "Units to add.") var quantity: Int64 = 1
    @OptionGroup var write: WriteOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let reply = try await global.withClient {
            try await $0.addItem(CartID(cart), item: ItemID(item), quantity: quantity, expectedVersion: write.expected)
        }
        printWrite(reply, global, "added \(quantity) × \(item)")
    }
}

struct RemoveItem: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove an item's line from a cart.")
    @Argument var cart: String
    @Argument var item: String
    @OptionGroup var write: WriteOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let reply = try await global.withClient {
            try await $0.removeItem(CartID(cart), item: ItemID(item), expectedVersion: write.expected)
        }
        printWrite(reply, global, "removed \(item)")
    }
}

struct SetQuantity: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set-qty", abstract: "Set the quantity of an item in a cart.")
    @Argument var cart: String
    @Argument var item: String
    @Argument(help: "The new quantity (or --qty, as `cart add` takes it).") var quantity: Int64?
    @Option(name: [.customLong("qty"), .customLong("quantity")], parsing: .unconditional, help: "The new quantity.")
    var quantityOption: Int64?
    @OptionGroup var write: WriteOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard (quantity == nil) != (quantityOption == nil) else {
            throw ValidationError("give the new quantity once: `set-qty <cart> <item> 3` or `set-qty <cart> <item> --qty 3`")
        }
    }

    func run() async throws {
        let quantity = quantity ?? quantityOption!
        let reply = try await global.withClient {
            try await $0.setQuantity(CartID(cart), item: ItemID(item), quantity: quantity, expectedVersion: write.expected)
        }
        printWrite(reply, global, "set \(item) to \(quantity)")
    }
}

struct ShareCart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "share", abstract: "Share a cart you own with users.")
    @Argument var cart: String
    @Argument(help: "Users to share with.") var users: [String]
    @OptionGroup var write: WriteOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard !users.isEmpty, users.count <= CartAPILimits.usersPerShareMax else {
            throw ValidationError("name 1...\(CartAPILimits.usersPerShareMax) users")
        }
    }

    func run() async throws {
        let reply = try await global.withClient {
            try await $0.share(CartID(cart), with: users.map { UserID($0) }, expectedVersion: write.expected)
        }
        printWrite(reply, global, "shared with \(users.joined(separator: ", "))")
    }
}

struct UnshareCart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unshare", abstract: "Stop sharing a cart with a user (or leave it).")
    @Argument var cart: String
    @Argument var user: String
    @OptionGroup var write: WriteOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let reply = try await global.withClient {
            try await $0.unshare(CartID(cart), user: UserID(user), expectedVersion: write.expected)
        }
        printWrite(reply, global, "no longer shared with \(user)")
    }
}

struct Checkout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkout", abstract: "Reserve stock for every line and close the cart.",
        discussion: "The answer names the cart's version at checkout. The stock taken is then settled on the items' "
            + "partitions, and the cart records that in one more event (CartCheckoutSettled), so `cart get` "
            + "shows a version one higher once it has.")
    @Argument var cart: String
    @OptionGroup var write: WriteOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let reply = try await global.withClient { try await $0.checkout(CartID(cart), expectedVersion: write.expected) }
        if global.json { return Printer.json(reply) }
        Printer.line("checked out cart \(reply.cart): checkout \(reply.checkout), total \(reply.total), version \(reply.version.rawValue)")
    }
}

struct CartEvents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Print a cart's retained history.",
        discussion: "A cart keeps its last 64 events. Without --from, the history starts at the oldest one kept "
            + "(a note on stderr says so when older ones are gone); with --from, a seq no longer kept is an error "
            + "naming the oldest one.")
    @Argument var cart: String
    @Option(name: .customLong("from"), help: "First seq to print (default: the oldest kept).") var fromSeq: UInt64?
    @OptionGroup var read: ReadOptions
    @OptionGroup var global: GlobalOptions

    /// Attempts to start at the oldest kept event while new events keep pushing it on.
    static let truncatedRetriesMax = 5

    func run() async throws {
        let (events, servedBy) = try await global.withClient { client in
            let consistency = try await read.consistency(client)
            guard let fromSeq else { return try await Self.retained(CartID(cart), from: Seq(1), client, consistency) }
            return try await client.allEvents(CartID(cart), fromSeq: Seq(fromSeq), consistency: consistency)
        }
        ReadOptions.note(servedBy)
        if let first = events.first, fromSeq == nil, first.seq > Seq(1) {
            Printer.note("events before #\(first.seq.rawValue) are no longer kept")
        }
        if global.json { return Printer.json(events) }
        for event in events { Printer.line(Printer.event(event)) }
    }

    /// The cart's history from `from`, or from the oldest event kept when that is later (a
    /// cart keeps its last 64), trying again while new events push the oldest kept on.
    static func retained(_ cart: CartID, from: Seq, _ client: CartClient, _ consistency: ReadConsistency)
        async throws -> (events: [CartEvent], servedBy: ReplicaPosition?) {
        var from = from
        var attempt = 1
        while true {
            let error: CartClientError
            do {
                return try await client.allEvents(cart, fromSeq: from, consistency: consistency)
            } catch let failure {
                error = failure
            }
            guard error.isHistoryTruncated, attempt < truncatedRetriesMax, let oldest = error.oldestRetainedSeq,
                  oldest > from else { throw error }
            from = oldest
            attempt += 1
        }
    }
}

struct WatchCart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print every change of a cart live, in order; resumes after drops without missing or repeating one.",
        discussion: """
            A cart keeps its last 64 events, and the nodes keep every event of the last 10 s. When \
            the watch starts (or resumes) before the oldest one kept, it prints a note on stderr and \
            the cart as it is now (with --json, an object {"cartAsOf": …} among the events), then \
            goes on from there.
            """)
    @Argument var cart: String
    @Option(name: .customLong("from"), help: "First seq to print (1: the cart's first event).") var fromSeq: UInt64 = 1
    @Option(help: "Stop after this many events (default: run until interrupted).") var count: Int?
    @OptionGroup var global: GlobalOptions

    /// Resume points found already forgotten, in a row, before giving up.
    static let truncatedResumesMax = 5

    func run() async throws {
        try await global.withClient { client in
            var printed = 0
            var from = Seq(fromSeq)
            var truncatedInARow = 0
            while true {
                do {
                    for try await event in client.watch(CartID(cart), fromSeq: from) {
                        truncatedInARow = 0
                        if global.json { Printer.json(event) } else { Printer.line(Printer.event(event)) }
                        from = event.seq.next
                        printed += 1
                        if let count, printed >= count { return }
                    }
                    return
                } catch let error as CartClientError where error.isHistoryTruncated && truncatedInARow < Self.truncatedResumesMax {
                    // The cart keeps its last events only, and those from `from` on are not
                    // all kept any more: show the cart as it is now and follow it from there.
                    truncatedInARow += 1
                    let now = try await client.getCart(CartID(cart))
                    Printer.note("events from #\(from.rawValue) are no longer kept; the cart as of #\(now.seq.rawValue):")
                    if global.json { Printer.json(["cartAsOf": now]) } else { Printer.line(Printer.cart(now)) }
                    from = now.seq.next
                }
            }
        }
    }
}
