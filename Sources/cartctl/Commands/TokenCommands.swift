import ArgumentParser
import CartGateway
import CartTypes
import Foundation

struct TokenGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Operator tools for the cluster secret and tokens.",
        subcommands: [MintToken.self, NewSecret.self])
}

struct MintToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mint", abstract: "Mint a token for a user straight from the cluster secret (admin); prints it.")
    @Argument var user: String
    @Option(help: "The cluster's secret keyring file.") var secret = ".cluster/token-keys"
    @Option(name: .customLong("lifetime-s"), help: "Seconds until the token expires.") var lifetimeSeconds: UInt64 = 12 * 3600
    @Flag(help: "Also store it as the current login, like `cartctl login`.") var store = false
    @Flag(help: "Print {\"user\", \"token\", \"expiresAtMs\"} as JSON.") var json = false

    func run() async throws {
        let now = UInt64(Date().timeIntervalSince1970 * 1_000)
        let token: String
        do {
            token = try AdminTokenMinter.mint(secretFile: secret, user: UserID(user), now: UnixMillis(now),
                                              lifetimeMs: lifetimeSeconds * 1_000)
            if store {
                try TokenStore.save(.init(token: token, user: user, expiresAtMs: Int64(now + lifetimeSeconds * 1_000)))
            }
        } catch {
            throw Printer.fail(error)
        }
        guard json else { return print(token) }
        struct Minted: Encodable { let user: String, token: String, expiresAtMs: UInt64 }
        Printer.json(Minted(user: user, token: token, expiresAtMs: now + lifetimeSeconds * 1_000))
    }
}

struct NewSecret: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new-secret", abstract: "Create a cluster secret keyring file (mode 0600) if it does not exist.")
    @Argument var path: String = ".cluster/token-keys"

    func run() async throws {
        guard !FileManager.default.fileExists(atPath: path) else { return print("\(path) exists; kept") }
        do {
            _ = try SecretKeyring.createFile(at: path)
        } catch {
            throw Printer.fail(error)
        }
        print("created \(path)")
    }
}
