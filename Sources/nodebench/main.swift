import CartAPI
import CartDomain
import CartRPC
import CartTLS
import CartTypes
import Foundation
import NIOConcurrencyHelpers

// nodebench: a quick addItem load against running cartd nodes (started with
// --dev-identities), for tuning the node. `--user` (default alice), who must be one of the
// nodes' `--admin`s, puts the item the carts use; the carts belong to `--users` load users
// (default 8, `nodebench-<k>`), so that one user's rate limit does not cap the load. The full
// workload mix and the benchmark of record live in `cartload carts`.
//
//   nodebench --ca certs/ca.pem --nodes 127.0.0.1:7401,127.0.0.1:7402,127.0.0.1:7403 \
//             --clients 64 --seconds 10 --carts 256

struct Options {
    var ca = "certs/ca.pem"
    var nodes = ["127.0.0.1:7401"]
    var clients = 64
    var seconds = 10.0
    var carts = 256
    var connectionsPerNode = 4
    var user = "alice"
    var users = 8

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            let value = iterator.next() ?? ""
            switch flag {
            case "--ca": ca = value
            case "--nodes": nodes = value.split(separator: ",").map(String.init)
            case "--clients": clients = Int(value) ?? clients
            case "--seconds": seconds = Double(value) ?? seconds
            case "--carts": carts = Int(value) ?? carts
            case "--connections": connectionsPerNode = Int(value) ?? connectionsPerNode
            case "--user": user = value
            case "--users": users = max(1, Int(value) ?? users)
            default: print("unknown flag \(flag)"); exit(2)
            }
        }
    }
}

let options = Options(CommandLine.arguments)
let tls = try TLSContext(configuration: TLSConfiguration(trustedCAPath: options.ca))
/// One client per node acting as `user` (a development identity).
func clientsPerNode(as user: String) -> [RPCClient] {
    options.nodes.map { address in
        let colon = address.lastIndex(of: ":")!
        var configuration = RPCClientConfiguration(host: String(address[..<colon]), port: Int(address[address.index(after: colon)...])!,
                                                   security: .tls(tls, expectedPeerName: String(address[..<colon])),
                                                   identity: "nodebench")
        configuration.authToken = "user:\(user)"
        configuration.connectionsPerEndpoint = options.connectionsPerNode
        return RPCClient(configuration: configuration)
    }
}
let admin = clientsPerNode(as: options.user)
/// `loadUsers[k][n]`: load user k's client of node n. Cart i belongs to load user i % users.
let loadUsers = (0..<options.users).map { clientsPerNode(as: "nodebench-\($0)") }
func client(forCart i: Int, via n: Int) -> RPCClient { loadUsers[i % loadUsers.count][n % options.nodes.count] }
let clientID = ClientID(UInt64.random(in: 1...UInt64.max / 2))
let counter = NIOLockedValueBox<UInt64>(0)
func key() -> RequestKey { RequestKey(client: clientID, request: RequestID(counter.withLockedValue { $0 += 1; return $0 })) }

_ = try await admin[0].call(.itemPut, PutItemRequest(item: "bench-item", name: "Bench", price: Money(minorUnits: 100),
                                                       initialStock: 1_000_000_000, request: key()))
let carts = (0..<options.carts).map { CartID("bench-\(clientID.rawValue)-\($0)") }
for (i, cart) in carts.enumerated() {
    _ = try await client(forCart: i, via: i).call(.cartCreate, CreateCartRequest(cart: cart, request: key()))
}
print("created \(carts.count) carts; running \(options.clients) clients for \(options.seconds) s")

let start = ContinuousClock.now
let end = start + .seconds(options.seconds)
let results = try await withThrowingTaskGroup(of: ([Double], Int).self) { group in
    for worker in 0..<options.clients {
        group.addTask {
            var latencies: [Double] = []
            var errors = 0
            var i = worker
            while ContinuousClock.now < end {
                let cart = carts[i % carts.count]
                let begin = ContinuousClock.now
                do {
                    _ = try await client(forCart: i % carts.count, via: i).call(.cartAddItem, AddItemRequest(cart: cart, item: "bench-item", quantity: 1, request: key()))
                    let elapsed = ContinuousClock.now - begin
                    latencies.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
                } catch {
                    errors += 1
                }
                i += options.clients
            }
            return (latencies, errors)
        }
    }
    var all: [Double] = []
    var errors = 0
    for try await (latencies, failed) in group {
        all += latencies
        errors += failed
    }
    return (all, errors)
}
let elapsed = ContinuousClock.now - start
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
let sorted = results.0.sorted()
func percentile(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
print(String(format: "addItem: %d ok, %d errors, %.0f ops/s, p50 %.2f ms, p99 %.2f ms, max %.2f ms",
             sorted.count, results.1, Double(sorted.count) / seconds, percentile(0.5), percentile(0.99), sorted.last ?? 0))
for client in admin + loadUsers.joined() { await client.shutdown() }
