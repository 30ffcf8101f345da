/// A TLS failure with a stable `code` (safe to match on and to log as a metric label),
/// a human message, and the reasons OpenSSL gave, oldest first.
public struct TLSError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Stable codes. The raw values are part of logs and metrics and never change meaning.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// A configuration value is unusable (missing file, key without certificate, …).
        case invalidConfiguration = "tls.invalid_configuration"
        /// OpenSSL refused the certificate chain, private key or CA bundle.
        case credentialsRejected = "tls.credentials_rejected"
        /// OpenSSL could not allocate a context, connection or BIO.
        case resourceExhausted = "tls.resource_exhausted"
        /// The handshake did not finish within the configured time.
        case handshakeTimeout = "tls.handshake_timeout"
        /// The handshake failed for a protocol reason (garbage, no shared version or cipher, an alert).
        case handshakeFailed = "tls.handshake_failed"
        /// The peer's certificate is outside its validity period.
        case peerCertificateExpired = "tls.peer_certificate_expired"
        /// The peer's certificate does not chain to a trusted CA.
        case peerCertificateUntrusted = "tls.peer_certificate_untrusted"
        /// The peer's certificate does not carry the expected DNS name or IP address.
        case peerNameMismatch = "tls.peer_name_mismatch"
        /// The peer's certificate failed verification for another reason (see the message).
        case peerCertificateRejected = "tls.peer_certificate_rejected"
        /// This side requires a client certificate and the peer sent none.
        case peerCertificateMissing = "tls.peer_certificate_missing"
        /// The peer requires a client certificate and this side sent none.
        case certificateRequiredByPeer = "tls.certificate_required_by_peer"
        /// A record failed after the handshake (bad MAC, unexpected message, an alert).
        case connectionFailed = "tls.connection_failed"
        /// The connection closed without a close_notify: the data may have been truncated.
        case uncleanShutdown = "tls.unclean_shutdown"
        /// More plaintext was written before the handshake completed than may be queued.
        case writeBufferFull = "tls.write_buffer_full"
        /// A write was issued after the TLS session was closed.
        case closed = "tls.closed"
    }

    public let code: Code
    public let message: String
    /// OpenSSL's error queue at the time of failure, formatted "library: reason".
    public let openSSLReasons: [String]

    public init(_ code: Code, _ message: String, openSSLReasons: [String] = []) {
        self.code = code
        self.message = message
        self.openSSLReasons = openSSLReasons
    }

    public var description: String {
        if openSSLReasons.isEmpty {
            return "\(code.rawValue): \(message)"
        }
        return "\(code.rawValue): \(message) [\(openSSLReasons.joined(separator: "; "))]"
    }
}
