import CartTLS

/// How a server listens or a client connects: TLS through CartTLS, or plaintext.
/// Plaintext must be chosen explicitly and exists for tests and for measuring how much of
/// a benchmark figure is the cost of TLS.
public enum RPCTransportSecurity: Sendable {
    /// TLS with `context`. A client checks that the server's certificate names
    /// `expectedPeerName` (a DNS name or IP literal); a server ignores it.
    case tls(TLSContext, expectedPeerName: String? = nil)
    case plaintext

    var tlsContext: TLSContext? {
        if case .tls(let context, _) = self { return context }
        return nil
    }
}
