import ArgumentParser
import CartClient
import CartTLS
import Foundation

/// Where the cluster is, how to trust it, who we are and how to print: shared by every
/// subcommand.
struct GlobalOptions: ParsableArguments {
    @Option(help: "Client endpoints host:port,…, or a file of them (default: $SHAREDCART_ENDPOINTS, else the file .cluster/endpoints, else 127.0.0.1:7401,7402,7403).")
    var endpoints: String?
    @Option(help: "CA bundle that signed the nodes' certificates.") var ca = "certs/ca.pem"
    @Option(help: "Client certificate (only for nodes that require one).") var cert: String?
    @Option(help: "Key for --cert.") var key: String?
    @Flag(help: "Speak plaintext (only to nodes started without TLS).") var plaintext = false
    @Option(help: "Login token to use instead of the stored one.") var token: String?
    @Option(name: .customLong("as-user"), help: "Act as this user without a password (nodes run with dev identities).")
    var asUser: String?
    @Option(name: .customLong("timeout-ms"), help: "Give up on an operation (retries included) after this long.")
    var timeoutMs: Int64 = 15_000
    @Flag(help: "Print JSON instead of text (amounts in minor units: 1250 is 12.50).") var json = false

    func endpointList() throws -> [Endpoint] {
        try Endpoint.given(endpoints ?? ProcessInfo.processInfo.environment["SHAREDCART_ENDPOINTS"])
    }

    /// The hello token: --token, $SHAREDCART_TOKEN, --as-user, then the stored login.
    func authToken() -> String? {
        if let token { return token }
        if let environment = ProcessInfo.processInfo.environment["SHAREDCART_TOKEN"] { return environment }
        if let asUser { return "user:\(asUser)" }
        return TokenStore.load()?.token
    }

    func clientConfiguration(anonymous: Bool = false) throws -> CartClientConfiguration {
        var tls: TLSContext?
        if !plaintext {
            guard FileManager.default.fileExists(atPath: ca) else {
                throw CommandFailure("no CA bundle at \(ca): run tools/cluster up (it makes certs/), or pass --ca")
            }
            tls = try TLSContext(configuration: TLSConfiguration(certificateChainPath: cert, privateKeyPath: key,
                                                                 trustedCAPath: ca))
        }
        var configuration = CartClientConfiguration(endpoints: try endpointList(), tls: tls,
                                                    authToken: anonymous ? nil : authToken(), identity: "cartctl")
        configuration.operationTimeoutMs = timeoutMs
        return configuration
    }

    /// Runs `body` with a connected client and turns failures into a message and exit code.
    func withClient<T>(anonymous: Bool = false, _ body: (CartClient) async throws -> T) async throws -> T {
        let client: CartClient
        do {
            client = CartClient(configuration: try clientConfiguration(anonymous: anonymous))
        } catch {
            throw Printer.fail(error)
        }
        do {
            let result = try await body(client)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw Printer.fail(error)
        }
    }
}

/// A failure of the tool itself (bad file, missing login), printed like a server error.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
