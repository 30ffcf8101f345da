import Foundation

/// A node's client listener, `host:port`.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` (IPv6 hosts in brackets: `[::1]:7401`). Bad text is a typed error,
    /// since endpoints come from flags and files.
    public init(parsing text: String) throws(CartClientError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let colon = trimmed.lastIndex(of: ":") else {
            throw CartClientError(.invalidArgument, "endpoint \"\(text)\" is not host:port")
        }
        var host = String(trimmed[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(trimmed[trimmed.index(after: colon)...]), (1...65_535).contains(port) else {
            throw CartClientError(.invalidArgument, "endpoint \"\(text)\" is not host:port with a port in 1...65535")
        }
        self.init(host: host, port: port)
    }

    /// Parses a comma-separated list, skipping empty entries.
    public static func parseList(_ text: String) throws(CartClientError) -> [Endpoint] {
        var endpoints: [Endpoint] = []
        for part in text.split(separator: ",") where !part.trimmingCharacters(in: .whitespaces).isEmpty {
            endpoints.append(try Endpoint(parsing: String(part)))
        }
        guard !endpoints.isEmpty else { throw CartClientError(.invalidArgument, "no endpoints given") }
        return endpoints
    }

    /// The endpoints file `tools/cluster` writes, and the client ports of its default cluster.
    public static let localClusterFile = ".cluster/endpoints"
    public static let localClusterDefault = "127.0.0.1:7401,127.0.0.1:7402,127.0.0.1:7403"

    /// The endpoints a command was given (`parseListOrFile`); without any, the local
    /// cluster's file, else its default ports.
    public static func given(_ text: String?) throws(CartClientError) -> [Endpoint] {
        if let text { return try parseListOrFile(text) }
        if FileManager.default.isReadableFile(atPath: localClusterFile) { return try parseListOrFile(localClusterFile) }
        return try parseList(localClusterDefault)
    }

    /// `text` as `parseList` reads it, or, when it names a readable file, that file's
    /// endpoints (comma- or newline-separated, as `tools/cluster` writes `.cluster/endpoints`).
    public static func parseListOrFile(_ text: String) throws(CartClientError) -> [Endpoint] {
        if !text.contains(","), let file = try? String(contentsOfFile: text, encoding: .utf8) {
            do {
                return try parseList(file.replacingOccurrences(of: "\n", with: ","))
            } catch {
                throw CartClientError(.invalidArgument, "\(text): \(error.message)")
            }
        }
        return try parseList(text)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
