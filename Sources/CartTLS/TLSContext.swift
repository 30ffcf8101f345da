import COpenSSLShim
import Foundation

/// One OpenSSL `SSL_CTX` built from a `TLSConfiguration`, shared by every connection that
/// uses the configuration: certificates, key and CA store are parsed once, not per handshake.
///
/// `@unchecked Sendable`: the `SSL_CTX` is fully configured inside `init` and never mutated
/// afterwards; OpenSSL guarantees that `SSL_new` on a shared, unmodified context is
/// thread-safe (the context's reference count and caches are internally locked).
public final class TLSContext: @unchecked Sendable {
    public let configuration: TLSConfiguration
    let context: OpaquePointer

    public init(configuration: TLSConfiguration) throws(TLSError) {
        OpenSSLErrorQueue.clear()
        guard let context = SSL_CTX_new(TLS_method()) else {
            throw TLSContext.failure(.resourceExhausted, "cannot allocate an SSL_CTX")
        }
        self.context = context
        self.configuration = configuration
        try configureProtocol()
        try loadCredentials()
        try loadTrustedCAs()
    }

    deinit {
        SSL_CTX_free(context)
    }

    private func configureProtocol() throws(TLSError) {
        let version: Int32
        switch configuration.minimumVersion {
        case .tls12: version = cs_tls1_2_version()
        case .tls13: version = cs_tls1_3_version()
        }
        guard cs_ssl_ctx_set_min_proto_version(context, version) == 1 else {
            throw TLSContext.failure(.invalidConfiguration, "cannot set the minimum protocol version")
        }
        cs_ssl_ctx_set_hardening_options(context)
        cs_ssl_ctx_set_modes(context)
        // No session tickets: connections are long-lived and resumption would skip
        // client-certificate verification on reconnect.
        SSL_CTX_set_num_tickets(context, 0)
    }

    private func loadCredentials() throws(TLSError) {
        switch (configuration.certificateChainPath, configuration.privateKeyPath) {
        case (nil, nil):
            return
        case (let chain?, let key?):
            try TLSContext.requireFile(chain, "certificate chain")
            try TLSContext.requireFile(key, "private key")
            guard SSL_CTX_use_certificate_chain_file(context, chain) == 1 else {
                throw TLSContext.failure(.credentialsRejected, "cannot load certificate chain \(chain)")
            }
            guard SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1 else {
                throw TLSContext.failure(.credentialsRejected, "cannot load private key \(key)")
            }
            guard SSL_CTX_check_private_key(context) == 1 else {
                throw TLSContext.failure(.credentialsRejected, "private key \(key) does not match certificate \(chain)")
            }
        default:
            throw TLSError(.invalidConfiguration, "a certificate chain and a private key must be given together")
        }
    }

    private func loadTrustedCAs() throws(TLSError) {
        guard let path = configuration.trustedCAPath else {
            guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                throw TLSContext.failure(.credentialsRejected, "cannot load the system CA store")
            }
            return
        }
        try TLSContext.requireFile(path, "trusted CA bundle")
        guard SSL_CTX_load_verify_locations(context, path, nil) == 1 else {
            throw TLSContext.failure(.credentialsRejected, "cannot load trusted CA bundle \(path)")
        }
        if configuration.requireClientCertificate, let names = SSL_load_client_CA_file(path) {
            // Tells clients which CAs we accept so they can pick the right certificate.
            SSL_CTX_set_client_CA_list(context, names)
        }
    }

    private static func requireFile(_ path: String, _ what: String) throws(TLSError) {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw TLSError(.invalidConfiguration, "\(what) file is missing or unreadable: \(path)")
        }
    }

    private static func failure(_ code: TLSError.Code, _ message: String) -> TLSError {
        TLSError(code, message, openSSLReasons: OpenSSLErrorQueue.drain().map(\.text))
    }
}
