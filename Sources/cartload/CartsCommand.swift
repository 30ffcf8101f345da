import ArgumentParser
import CartClient
import CartLoad
import CartTLS
import CartTypes
import Foundation

/// `cartload carts`: the cart workload against a running cluster.
struct CartsLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "carts",
        abstract: "Cart workload: create/add/remove/share/get/checkout mix, add-item only, get only, watch fan-out, or verify.",
        discussion: """
            Closed loop by default (--concurrency operations back to back); --rate makes it an open loop
            whose latency counts from each operation's intended start. Prints a progress line each second
            on stderr, then a summary (or one JSON line with --json).

            --mode verify records every change it makes (--concurrency carts at a time, 60 adds each),
            repeating unanswered requests with their request keys, then reads every cart back through its
            leader and from each node's replica, and exits 4 if an acknowledged add is lost, applied
            twice or out of order, or a replica differs. Meanwhile a few workers check out carts of four
            scarce items, restocked a little at a time; once every checkout settled, each unit sold must be
            in exactly one checked-out cart and nothing left reserved. Each load user owns at most 900 of its carts:
            raise --users for long runs. tools/soak-chaos runs it while killing and freezing nodes.
            """
    )

    @Option(help: "Client endpoints host:port,…, or a file of them (default: the file .cluster/endpoints, else 127.0.0.1:7401,7402,7403).")
    var endpoints: String?
    @Option(help: "CA bundle that signed the nodes' certificates.") var ca = "certs/ca.pem"
    @Flag(help: "Speak plaintext to nodes started without TLS.") var plaintext = false
    @Option(help: "Cluster secret keyring to mint the load users' tokens from.") var secret = ".cluster/token-keys"
    @Flag(name: .customLong("dev-identities"), help: "Act as users via user:<name> tokens (nodes run with dev identities).")
    var devIdentities = false
    @Option(help: "mix, add-item, get, watch-fanout or verify.") var mode: String = "mix"
    @Option(help: "Load users.") var users = 8
    @Option(help: "Carts the mix works on.") var carts = 256
    @Option(help: "Distinct items added to carts.") var items = 32
    @Option(help: "Operations in flight (closed loop), or at most in flight (open loop).") var concurrency = 64
    @Option(help: "Open loop: operations per second in total.") var rate: Double?
    @Option(help: "Measured time, e.g. 20s, 500ms, 2m (after the warm-up).") var duration = "20s"
    @Option(help: "Warm-up before measuring, e.g. 1s.") var warmup = "1s"
    @Option(name: .customLong("connections"), help: "Connections per load user per node.") var connectionsPerNode = 1
    @Option(help: "Prefix of the load's user, cart and item names.") var prefix = "load"
    @Option(help: "The catalogue admin (a user named by the nodes' --admin) that puts the load's items.") var admin = "alice"
    @Option(help: "watch-fanout: watchers on the cart.") var watchers = 10
    @Option(name: .customLong("changes-per-s"), help: "watch-fanout: changes per second to the cart.") var changesPerSecond = 1_000.0
    @Option(name: .customLong("watch-node"),
            help: "watch-fanout: leader (every watcher on the cart's partition leader) or any (spread over the nodes).")
    var watchNode = "leader"
    @Flag(help: "Print exactly one JSON line on stdout (the summary goes to stderr).") var json = false
    @Flag(name: .customLong("no-progress"), help: "No progress line each second.") var noProgress = false
    @Flag(name: .customLong("local-reads"), help: "mix and get: cart reads are replica-local (any node answers from its own copy).")
    var localReads = false

    func validate() throws {
        guard CartLoadOptions.Mode(rawValue: mode) != nil else {
            throw ValidationError("--mode must be one of \(CartLoadOptions.Mode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard users >= 1, carts >= 1, items >= 1, concurrency >= 1, connectionsPerNode >= 1, watchers >= 1 else {
            throw ValidationError("users, carts, items, concurrency, connections and watchers must be positive")
        }
        guard (try? DurationText.seconds(duration)).map({ $0 > 0 }) == true, (try? DurationText.seconds(warmup)) != nil else {
            throw ValidationError("--duration and --warmup look like 20s, 500ms or 2m")
        }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
        if rate != nil && mode == CartLoadOptions.Mode.verify.rawValue {
            throw ValidationError("--mode verify runs closed loop: one change at a time per cart, so leave out --rate")
        }
        guard changesPerSecond > 0 else { throw ValidationError("--changes-per-s must be positive") }
        if localReads && ![CartLoadOptions.Mode.mix.rawValue, CartLoadOptions.Mode.get.rawValue].contains(mode) {
            throw ValidationError("--local-reads is for the reads of --mode mix or get")
        }
        guard CartLoadOptions.WatchNode(rawValue: watchNode) != nil else {
            throw ValidationError("--watch-node must be one of \(CartLoadOptions.WatchNode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() async throws {
        let options = try makeOptions()
        let report: CartLoadReport
        do {
            report = try await CartLoadRunner.run(options)
        } catch {
            FileHandle.standardError.write(Data("cartload: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if json {
            FileHandle.standardError.write(Data((report.summary + "\n").utf8))
            print(report.json)
        } else {
            print(report.summary)
        }
        if let fanout = report.fanout, !fanout.everyEventOnceInOrder { throw ExitCode(4) }
        if let verify = report.verify, !verify.passed { throw ExitCode(4) }
    }

    private func makeOptions() throws -> CartLoadOptions {
        let endpointList = try Endpoint.given(endpoints)
        let tls = plaintext ? nil : try TLSContext(configuration: TLSConfiguration(trustedCAPath: ca))
        let identity: CartLoadOptions.Identity = devIdentities ? .devIdentities : .secret(path: secret)
        if case .secret(let path) = identity, !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("no cluster secret at \(path): start the cluster with tools/cluster up, pass --secret, or use --dev-identities")
        }
        var options = CartLoadOptions(endpoints: endpointList, tls: tls, identity: identity, admin: UserID(admin), mode: CartLoadOptions.Mode(rawValue: mode)!,
                                      users: users, carts: carts, items: items, concurrency: concurrency, ratePerSecond: rate,
                                      durationSeconds: try DurationText.seconds(duration), warmupSeconds: try DurationText.seconds(warmup),
                                      connectionsPerNode: connectionsPerNode, namePrefix: prefix, watchers: watchers,
                                      changesPerSecond: changesPerSecond, watchNode: CartLoadOptions.WatchNode(rawValue: watchNode)!,
                                      progress: !noProgress)
        options.localReads = localReads
        return options
    }
}

/// `20s`, `500ms`, `2m`, or a bare number of seconds.
enum DurationText {
    struct Invalid: Error {}

    static func seconds(_ text: String) throws -> Double {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let value = Double(text.dropLast(suffix.count)), value >= 0 else { throw Invalid() }
            return value * scale
        }
        guard let value = Double(text), value >= 0 else { throw Invalid() }
        return value
    }
}
