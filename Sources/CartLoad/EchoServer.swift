import CartRPC
import NIOCore
import NIOPosix

/// A bare `RPCServer` answering only the built-ins (echo on the event loop): the other end
/// of `cartload rpc` when no node is running.
public enum EchoServer {
    public static func start(host: String, port: Int, security: RPCTransportSecurity,
                             group: any EventLoopGroup) async throws -> RPCServer {
        var configuration = RPCServerConfiguration(host: host, port: port, security: security,
                                                   identity: "cartload-echo", eventLoopGroup: group)
        configuration.drainTimeoutMs = 2_000
        let server = RPCServer(configuration: configuration)
        try await server.start()
        return server
    }
}
