import ArgumentParser
import CartClient
import CartDomain
import CartTypes

struct UserGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Register users and look at them.",
        subcommands: [RegisterUser.self, GetUser.self, UserCarts.self])
}

struct RegisterUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "register", abstract: "Register a user; asks for the password.")
    @Argument var name: String
    @Flag(name: .customLong("password-stdin"), help: "Read the password from stdin (for scripts).") var passwordStdin = false
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let password = try PasswordPrompt.read(prompt: "password for \(name): ", fromStdin: passwordStdin)
        let user = try await global.withClient(anonymous: true) { try await $0.register(UserID(name), password: password) }
        if global.json { return Printer.json(["user": user.rawValue]) }
        Printer.line("registered \(user); now: cartctl login \(user)")
    }
}

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "login", abstract: "Log in and store the token for later commands.")
    @Argument var name: String
    @Flag(name: .customLong("password-stdin"), help: "Read the password from stdin (for scripts).") var passwordStdin = false
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let password = try PasswordPrompt.read(prompt: "password for \(name): ", fromStdin: passwordStdin)
        let reply = try await global.withClient(anonymous: true) { try await $0.login(UserID(name), password: password) }
        do {
            try TokenStore.save(.init(token: reply.token, user: reply.user.rawValue, expiresAtMs: reply.expiresAtMs))
        } catch {
            throw Printer.fail(error)
        }
        if global.json { return Printer.json(["user": reply.user.rawValue, "tokenFile": TokenStore.path]) }
        Printer.line("logged in as \(reply.user); token stored in \(TokenStore.path)")
    }
}

/// The user a command is about: the argument, else the logged-in user.
func userArgument(_ name: String?) throws -> UserID {
    if let name { return UserID(name) }
    guard let saved = TokenStore.load(), !saved.user.isEmpty else { throw Printer.fail(CommandFailure("name a user or log in first")) }
    return UserID(saved.user)
}

struct GetUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Show a user (yourself) and their carts.")
    @Argument var name: String?
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let user = try userArgument(name)
        let reply = try await global.withClient { try await $0.getUser(user) }
        if global.json { return Printer.json(reply) }
        Printer.line("user \(reply.user), registered \(Printer.time(reply.registeredAt)), \(reply.carts.count) carts")
        for link in reply.carts { Printer.line("  \(link.cart)  \(link.role == .owner ? "owner" : "shared")") }
    }
}

struct UserCarts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "carts", abstract: "List the carts a user owns or shares.")
    @Argument var name: String?
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let user = try userArgument(name)
        let carts = try await global.withClient { try await $0.carts(of: user) }
        if global.json { return Printer.json(carts) }
        for link in carts { Printer.line("\(link.cart)  \(link.role == .owner ? "owner" : "shared")") }
    }
}
