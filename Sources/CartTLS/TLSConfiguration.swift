/// What a TLS endpoint presents and whom it trusts, read from PEM files.
///
/// One configuration serves both roles: a node's certificate is valid for server and client
/// authentication, so the same `TLSContext` accepts peers and dials them (mutual TLS).
public struct TLSConfiguration: Sendable, Hashable {
    public enum ProtocolVersion: Sendable, Hashable {
        case tls12
        case tls13
    }

    /// PEM file: this endpoint's certificate followed by any intermediates. Required to act
    /// as a server, and as a client towards a server that requires client certificates.
    public var certificateChainPath: String?
    /// PEM file: the private key matching the first certificate of the chain.
    public var privateKeyPath: String?
    /// PEM bundle of CA certificates that peers must chain to. `nil` trusts the system store.
    public var trustedCAPath: String?
    /// The oldest protocol version accepted. TLS 1.3 unless an old peer forces 1.2.
    public var minimumVersion: ProtocolVersion
    /// As a server, request a client certificate and fail the handshake without one.
    public var requireClientCertificate: Bool
    /// Time from channel activation until the handshake must be complete.
    public var handshakeTimeoutMs: Int64
    /// Time to wait for the peer's close_notify after sending ours before closing anyway.
    public var closeNotifyTimeoutMs: Int64

    public static let handshakeTimeoutMsDefault: Int64 = 10_000
    public static let closeNotifyTimeoutMsDefault: Int64 = 1_000

    public init(
        certificateChainPath: String? = nil,
        privateKeyPath: String? = nil,
        trustedCAPath: String? = nil,
        minimumVersion: ProtocolVersion = .tls13,
        requireClientCertificate: Bool = false,
        handshakeTimeoutMs: Int64 = TLSConfiguration.handshakeTimeoutMsDefault,
        closeNotifyTimeoutMs: Int64 = TLSConfiguration.closeNotifyTimeoutMsDefault
    ) {
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
        self.trustedCAPath = trustedCAPath
        self.minimumVersion = minimumVersion
        self.requireClientCertificate = requireClientCertificate
        self.handshakeTimeoutMs = handshakeTimeoutMs
        self.closeNotifyTimeoutMs = closeNotifyTimeoutMs
    }

    /// The node-to-node setup: present our certificate, require the peer's, trust only the cluster CA.
    public static func mutualTLS(
        certificateChainPath: String,
        privateKeyPath: String,
        trustedCAPath: String
    ) -> TLSConfiguration {
        TLSConfiguration(
            certificateChainPath: certificateChainPath,
            privateKeyPath: privateKeyPath,
            trustedCAPath: trustedCAPath,
            requireClientCertificate: true
        )
    }
}
