import CartClient
import CartDomain
import CartGateway
import CartTypes
import Foundation

/// The workload's users, each with a client of their own (their own connections and token),
/// and the catalogue items the carts use. Registration and item creation tolerate
/// "already exists", so runs with the same prefix reuse what an earlier run made.
struct LoadUsers: Sendable {
    /// Stock of each load item: enough for any run's checkouts.
    static let itemStock: Int64 = 1_000_000_000_000
    static let itemPrice = Money(minorUnits: 250)
    /// Registrations at once: a node hashes at most 16 passwords at a time and refuses more
    /// (`resourceExhausted`), so a run with many users registers them a few at a time.
    static let registrationsAtOnce = 8

    let names: [UserID]
    let clients: [CartClient]
    let items: [ItemID]
    /// How the users' cart reads are served (`--local-reads`).
    var reads: ReadConsistency = .linearizable

    static func prepare(_ options: CartLoadOptions) async throws -> LoadUsers {
        let names = (0..<options.users).map { UserID("\(options.namePrefix)-user-\($0)") }
        let anonymous = CartClient(configuration: configuration(options, token: nil))
        defer { Task { await anonymous.shutdown() } }
        if case .secret = options.identity {
            // Share needs registered users; PBKDF2 makes each registration slow, so a few at once.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, name) in names.enumerated() {
                    if index >= registrationsAtOnce { try await group.next() }
                    group.addTask {
                        do throws(CartClientError) {
                            _ = try await anonymous.register(name, password: UUID().uuidString)
                        } catch where error.code == .alreadyExists {
                            // Made by an earlier run with the same prefix.
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        var clients: [CartClient] = []
        for name in names {
            clients.append(CartClient(configuration: configuration(options, token: try token(for: name, options.identity))))
        }
        let items = (0..<options.items).map { ItemID("\(options.namePrefix)-sku-\($0)") }
        let admin = CartClient(configuration: configuration(options, token: try token(for: options.admin, options.identity)))
        defer { Task { await admin.shutdown() } }
        for item in items {
            _ = try await admin.putItem(item, name: "load item \(item)", price: itemPrice, initialStock: itemStock)
        }
        return LoadUsers(names: names, clients: clients, items: items, reads: options.localReads ? .local(at: nil) : .linearizable)
    }

    /// Attempts the users' clients sent again after a failed one, so far.
    var retries: UInt64 { clients.reduce(0) { $0 + $1.retries } }

    func shutdown() async {
        for client in clients { await client.shutdown() }
    }

    static func configuration(_ options: CartLoadOptions, token: String?) -> CartClientConfiguration {
        var configuration = CartClientConfiguration(endpoints: options.endpoints, tls: options.tls, authToken: token,
                                                    identity: "cartload", eventLoopGroup: LoadLoops.group)
        configuration.connectionsPerNode = options.connectionsPerNode
        return configuration
    }

    static func token(for user: UserID, _ identity: CartLoadOptions.Identity) throws -> String {
        switch identity {
        case .devIdentities:
            return "user:\(user.rawValue)"
        case .secret(let path):
            let now = UnixMillis(UInt64(Date().timeIntervalSince1970 * 1_000))
            return try AdminTokenMinter.mint(secretFile: path, user: user, now: now)
        }
    }
}
