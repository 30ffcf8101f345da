import Foundation

/// The login token kept between commands: `$SHAREDCART_HOME/token`, else
/// `~/.config/sharedcart/token`, mode 0600. First line the token, second the user, third
/// its expiry in Unix milliseconds.
enum TokenStore {
    struct Saved {
        let token: String
        let user: String
        let expiresAtMs: Int64
    }

    static var directory: String {
        let environment = ProcessInfo.processInfo.environment
        if let home = environment["SHAREDCART_HOME"] { return home }
        return (environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()) + "/.config/sharedcart"
    }

    static var path: String { directory + "/token" }

    static func load() -> Saved? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n").map(String.init)
        guard let token = lines.first, !token.isEmpty else { return nil }
        return Saved(token: token, user: lines.count > 1 ? lines[1] : "", expiresAtMs: lines.count > 2 ? Int64(lines[2]) ?? 0 : 0)
    }

    static func save(_ saved: Saved) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let text = "\(saved.token)\n\(saved.user)\n\(saved.expiresAtMs)\n"
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CommandFailure("cannot write \(path)")
        }
    }
}
