import Benchmark
import CartDomain
import CartTypes
#if canImport(Glibc)
import Glibc
#endif

// Two figures for the partition state machine:
//   Domain.apply add-item mix      commands applied per second (throughput), one thread
//   Domain.apply steady state      ns and mallocs per command on a long-running partition:
//                                  every cart's history and the dedup window already full
//   Domain.memory 100k carts       resident bytes per cart: 10 items, 3 shared users each
//   Domain.memory … without history   the same with history retention 0, to show its share
//   Domain.snapshot 10k carts encode+decode   BinarySnapshotCodec time, and bytes per cart
//   Domain.memory dedup window     resident bytes per remembered outcome (60,000 of them)
//   swift package --package-path Benchmarks benchmark --filter Domain

let cartsInMix = 1_000
let cartsInMemoryRun = 100_000
let cartsInSnapshotRun = 10_000
let itemsPerCart = 10
let sharedUsers: [UserID] = ["bob", "carol", "dave"]

let benchmarks: @Sendable () -> Void = {
    Benchmark("Domain.apply add-item mix",
              configuration: .init(metrics: [.wallClock, .throughput, .mallocCountTotal],
                                   scalingFactor: .kilo, maxDuration: .seconds(3))) { benchmark in
        var state = sharedCarts(count: cartsInMix)
        let commands = addItemMix(count: benchmark.scaledIterations.count)
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            blackHole(state.apply(commands[index]))
        }
        benchmark.stopMeasurement()
    }

    // The per-command cost of a partition that has run for a while: every cart already keeps
    // `historyEventsPerCartMax` events and the dedup window holds `dedupEntriesMax` keys, so
    // each command also forgets the oldest history event and the oldest request key. The
    // partition lives across iterations and keeps running; every command is accepted.
    Benchmark("Domain.apply steady state set/remove/add",
              configuration: .init(metrics: [.wallClock, .throughput, .mallocCountTotal],
                                   scalingFactor: .kilo, maxDuration: .seconds(3))) { benchmark in
        let partition = LongRunningPartition.shared
        let commands = partition.nextCommands(count: benchmark.scaledIterations.count)
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            blackHole(partition.state.apply(commands[index]))
        }
        benchmark.stopMeasurement()
    }

    // Snapshot encode and decode of 10,000 such carts through the wire's binary encoding.
    Benchmark("Domain.snapshot 10k carts encode+decode",
              configuration: .init(metrics: [.wallClock, .mallocCountTotal], maxDuration: .seconds(5), maxIterations: 10)) { benchmark in
        let state = sharedCarts(count: cartsInSnapshotRun, itemsEach: itemsPerCart)
        let codec = BinarySnapshotCodec()
        benchmark.startMeasurement()
        let bytes = try codec.encode(state.snapshot())
        let restored = try PartitionState(snapshotBytes: bytes, using: codec)
        benchmark.stopMeasurement()
        precondition(restored == state)
        print("Domain.snapshot: \(bytes.count) bytes for \(cartsInSnapshotRun) carts = \(bytes.count / cartsInSnapshotRun) bytes/cart")
    }

    Benchmark("Domain.memory dedup window",
              configuration: .init(metrics: [.custom("bytes per outcome (RSS, trimmed)", useScalingFactor: false)],
                                   warmupIterations: 0, maxIterations: 1)) { benchmark in
        let perOutcome = dedupBytesPerOutcome()
        print("Domain.memory dedup window: +\(perOutcome) resident bytes per remembered outcome")
        benchmark.measurement(.custom("bytes per outcome (RSS, trimmed)", useScalingFactor: false), perOutcome)
    }

    // The same carts with and without their retained history, to show what history costs.
    for keepsHistory in [true, false] {
        let name = keepsHistory ? "Domain.memory 100k carts" : "Domain.memory 100k carts without history"
        Benchmark(name, configuration: .init(metrics: [.custom("bytes per cart (RSS)", useScalingFactor: false)],
                                             warmupIterations: 0, maxIterations: 1)) { benchmark in
            var limits = DomainLimits()
            if !keepsHistory { limits.historyEventsPerCartMax = 0 }
            let before = residentBytes()
            let state = sharedCarts(count: cartsInMemoryRun, itemsEach: itemsPerCart, limits: limits)
            let after = residentBytes()
            precondition(state.carts.count == cartsInMemoryRun)
            let perCart = (after - before) / cartsInMemoryRun
            print("\(name): \(itemsPerCart) items, \(sharedUsers.count) shared users, "
                  + "\(state.histories.first!.value.events.count) history events per cart: "
                  + "RSS +\(after - before) bytes = \(perCart) bytes/cart")
            benchmark.measurement(.custom("bytes per cart (RSS)", useScalingFactor: false), perCart)
            blackHole(state)
        }
    }
}

/// Bytes the dedup window keeps per outcome: a partition whose histories are already full
/// runs `dedupEntriesMax` more commands with request keys (inside the retention); what its
/// resident set grows by, with the allocator's free memory trimmed, is the window.
func dedupBytesPerOutcome() -> Int {
    let partition = LongRunningPartition.withoutRequestKeys()
    let count = partition.state.limits.dedupEntriesMax
    let commands = partition.nextCommands(count: count, keyed: true, msPerCommand: 0.25)
    let before = trimmedResidentBytes()
    for command in commands {
        guard case .success = partition.state.apply(command) else { fatalError("command refused: \(command)") }
    }
    let after = trimmedResidentBytes()
    precondition(partition.state.dedup.count == count, "every outcome is still in the window")
    blackHole(partition)
    return (after - before) / count
}

/// `count` carts owned by alice, each shared with bob, carol and dave and holding
/// `itemsEach` items.
func sharedCarts(count: Int, itemsEach: Int = 0, limits: DomainLimits = .standard) -> PartitionState {
    var state = PartitionState(limits: limits)
    var nowMs: Int64 = 1_700_000_000_000
    func run(_ command: Command) {
        nowMs += 1
        guard case .success = state.apply(command, at: Timestamp(millisecondsSinceEpoch: nowMs)) else {
            fatalError("setup command refused: \(command)")
        }
    }
    for n in 0..<count {
        let cart = CartID("cart-\(n)")
        run(.createCart(CreateCart(cart: cart, owner: "alice")))
        run(.shareCart(ShareCart(cart: cart, actor: "alice", users: sharedUsers)))
        for i in 0..<itemsEach {
            run(.addItem(AddItem(cart: cart, actor: "alice", item: ItemID("sku-\(i)"), quantity: 1,
                                 unitPrice: Money(minorUnits: 1_250))))
        }
    }
    return state
}

/// A client mix over the carts: 60% add an item, 30% set a quantity, 10% remove an item,
/// by the owner and the shared users, each with a fresh request key (so the dedup window is
/// exercised as it is in production). A few commands are refused (setting or removing an
/// item that is not there), as happens in real traffic.
func addItemMix(count: Int) -> [CommandEnvelope] {
    let actors: [UserID] = ["alice"] + sharedUsers
    return (0..<count).map { n in
        let cart = CartID("cart-\(n % cartsInMix)")
        let item = ItemID("sku-\((n / cartsInMix) % 20)")
        let actor = actors[n % actors.count]
        let command: Command = switch n % 10 {
        case 0..<6: .addItem(AddItem(cart: cart, actor: actor, item: item, quantity: 1, unitPrice: Money(minorUnits: 1_250)))
        case 6..<9: .setQuantity(SetQuantity(cart: cart, actor: actor, item: item, quantity: 3))
        default: .removeItem(RemoveItem(cart: cart, actor: actor, item: item))
        }
        return CommandEnvelope(command, at: Timestamp(millisecondsSinceEpoch: Int64(n)),
                               request: RequestKey(client: ClientID(UInt64(n % 64)), request: RequestID(UInt64(n))))
    }
}

/// A partition of `cartsInMix` carts with `itemsPerCart` items each, run until every history
/// and the dedup window are full; it keeps its state (and its command counter) across the
/// benchmark's iterations, which run on one thread.
final class LongRunningPartition: @unchecked Sendable {
    nonisolated(unsafe) static let shared = LongRunningPartition(keyed: true)

    var state: PartitionState
    private var commandsIssued = 0

    /// Full histories, and with `keyed` a full dedup window; without, an empty one.
    private init(keyed: Bool) {
        state = sharedCarts(count: cartsInMix, itemsEach: itemsPerCart)
        let warmUp = cartsInMix * (state.limits.historyEventsPerCartMax + 1)
        precondition(warmUp > state.limits.dedupEntriesMax, "the warm-up fills the dedup window")
        for command in nextCommands(count: warmUp, keyed: keyed) {
            guard case .success = state.apply(command) else { fatalError("warm-up command refused: \(command)") }
        }
        // Commands 1 ms apart: the retention, not the capacity, may be what bounds the window.
        let windowFull = min(state.limits.dedupEntriesMax, Int(state.limits.dedupRetentionMs) + 1)
        precondition(state.dedup.count == (keyed ? windowFull : 0), "the dedup window is full")
        precondition(state.histories.values.allSatisfy { $0.events.count == state.limits.historyEventsPerCartMax })
    }

    static func withoutRequestKeys() -> LongRunningPartition { LongRunningPartition(keyed: false) }

    /// Round r on a cart works on item (r / 3) % itemsPerCart: set its quantity, remove it,
    /// add it back, so the cart always holds every item and every command is accepted.
    /// Command n is stamped n × `msPerCommand` ms.
    func nextCommands(count: Int, keyed: Bool = true, msPerCommand: Double = 1) -> [CommandEnvelope] {
        let first = commandsIssued
        commandsIssued += count
        return (first..<first + count).map { n in
            let cart = CartID("cart-\(n % cartsInMix)")
            let round = n / cartsInMix
            let item = ItemID("sku-\((round / 3) % itemsPerCart)")
            let actor = sharedUsers[n % sharedUsers.count]
            let command: Command = switch round % 3 {
            case 0: .setQuantity(SetQuantity(cart: cart, actor: actor, item: item, quantity: 2))
            case 1: .removeItem(RemoveItem(cart: cart, actor: actor, item: item))
            default: .addItem(AddItem(cart: cart, actor: actor, item: item, quantity: 1, unitPrice: Money(minorUnits: 1_250)))
            }
            return CommandEnvelope(command, at: Timestamp(millisecondsSinceEpoch: Int64(Double(n) * msPerCommand)),
                                   request: keyed ? RequestKey(client: ClientID(UInt64(n % 64)), request: RequestID(UInt64(n))) : nil)
        }
    }
}

/// Resident bytes once the allocator has given back what it holds free (glibc's
/// `malloc_trim`), so that memory freed by a structure that grew by reallocating is not
/// counted as the structure's.
func trimmedResidentBytes() -> Int {
    typealias Trim = @convention(c) (Int) -> Int32
    if let program = dlopen(nil, RTLD_NOW), let symbol = dlsym(program, "malloc_trim") {
        _ = unsafeBitCast(symbol, to: Trim.self)(0)
    }
    return residentBytes()
}

/// Resident set size from /proc/self/statm (second field, in pages).
func residentBytes() -> Int {
    let fd = open("/proc/self/statm", O_RDONLY)
    guard fd >= 0 else { return 0 }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 256)
    let count = read(fd, &buffer, buffer.count)
    guard count > 0 else { return 0 }
    let fields = String(decoding: buffer[0..<count], as: UTF8.self).split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * sysconf(Int32(_SC_PAGESIZE))
}
