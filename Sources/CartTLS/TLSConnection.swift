import COpenSSLShim
import NIOCore

/// One OpenSSL session over two memory BIOs: ciphertext from the network is written into
/// `networkIn`, ciphertext for the network is read out of `networkOut`. It does no IO and
/// knows nothing about channels; `TLSHandler` moves the bytes.
final class TLSConnection {
    enum Role {
        case client
        case server
    }

    enum HandshakeOutcome {
        case complete
        case wantsMoreData
        case failed(TLSError)
    }

    enum ReadOutcome {
        /// The buffer reached its limit; there may be more plaintext.
        case bufferFull
        /// Every complete record has been decrypted; more ciphertext is needed.
        case wantsMoreData
        /// The peer sent close_notify.
        case closeNotify
        case failed(TLSError)
    }

    /// The peer's subjectAltName list, formatted, must fit here (a few dozen names).
    static let subjectAltNamesBytesMax = 16 * 1024
    /// The peer's common name must fit here (X.509 caps it at 64 characters).
    static let commonNameBytesMax = 1024

    private let ssl: OpaquePointer
    private let networkIn: OpaquePointer
    private let networkOut: OpaquePointer
    private let context: TLSContext  // keeps the SSL_CTX alive as long as the SSL
    private var handshakeComplete = false

    init(context: TLSContext, role: Role, expectedPeerName: String?) throws(TLSError) {
        OpenSSLErrorQueue.clear()
        guard let ssl = SSL_new(context.context) else {
            throw TLSError(.resourceExhausted, "cannot allocate an SSL session", openSSLReasons: OpenSSLErrorQueue.drain().map(\.text))
        }
        let networkIn = cs_bio_new_mem(), networkOut = cs_bio_new_mem()
        guard let networkIn, let networkOut else {
            // Either may have been allocated alone; the SSL owns neither yet.
            if let networkIn { BIO_free(networkIn) }
            if let networkOut { BIO_free(networkOut) }
            SSL_free(ssl)
            throw TLSError(.resourceExhausted, "cannot allocate memory BIOs")
        }
        SSL_set_bio(ssl, networkIn, networkOut)  // the SSL now owns both BIOs
        self.ssl = ssl
        self.networkIn = networkIn
        self.networkOut = networkOut
        self.context = context
        try configure(role: role, expectedPeerName: expectedPeerName)
    }

    deinit {
        SSL_free(ssl)
    }

    private func configure(role: Role, expectedPeerName: String?) throws(TLSError) {
        switch role {
        case .client:
            SSL_set_connect_state(ssl)
            SSL_set_verify(ssl, SSL_VERIFY_PEER, nil)
        case .server:
            SSL_set_accept_state(ssl)
            let mode = context.configuration.requireClientCertificate
                ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_NONE
            SSL_set_verify(ssl, mode, nil)
        }
        if let name = expectedPeerName {
            guard cs_ssl_set_expected_peer_name(ssl, name) == 1 else {
                throw TLSError(.invalidConfiguration, "unusable expected peer name '\(name)'", openSSLReasons: OpenSSLErrorQueue.drain().map(\.text))
            }
        }
    }

    // MARK: Ciphertext in and out

    func receiveCiphertext(_ buffer: inout ByteBuffer) {
        // A memory BIO grows to take everything, so one call per buffer suffices; the
        // caller bounds how much it hands over (one socket read at a time).
        let written = buffer.withUnsafeReadableBytes { bytes in
            bytes.isEmpty ? 0 : BIO_write(networkIn, bytes.baseAddress, Int32(bytes.count))
        }
        precondition(written == buffer.readableBytes, "memory BIO refused ciphertext")
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
    }

    var pendingCiphertextBytes: Int {
        cs_bio_pending(networkOut)
    }

    /// Moves up to `bytesMax` bytes of waiting ciphertext into `buffer`.
    func drainCiphertext(into buffer: inout ByteBuffer, bytesMax: Int) {
        let bytes = min(pendingCiphertextBytes, bytesMax)
        guard bytes > 0 else { return }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bytes) { target in
            let read = BIO_read(networkOut, target.baseAddress, Int32(bytes))
            precondition(read == bytes, "memory BIO returned fewer bytes than pending")
            return Int(read)
        }
    }

    // MARK: Handshake, records, shutdown

    func handshake() -> HandshakeOutcome {
        OpenSSLErrorQueue.clear()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            handshakeComplete = true
            return .complete
        }
        let error = SSL_get_error(ssl, result)
        if error == SSL_ERROR_WANT_READ {
            return .wantsMoreData
        }
        return .failed(failure(sslError: error))
    }

    /// Decrypts into `buffer` until it holds `bytesMax` readable bytes or no full record is left.
    func readPlaintext(into buffer: inout ByteBuffer, bytesMax: Int) -> ReadOutcome {
        while buffer.readableBytes < bytesMax {
            OpenSSLErrorQueue.clear()
            let room = bytesMax - buffer.readableBytes
            var result: Int32 = 0
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: room) { target in
                result = SSL_read(ssl, target.baseAddress, Int32(room))
                return result > 0 ? Int(result) : 0
            }
            if result > 0 {
                continue
            }
            switch SSL_get_error(ssl, result) {
            case SSL_ERROR_WANT_READ: return .wantsMoreData
            case SSL_ERROR_ZERO_RETURN: return .closeNotify
            case let error: return .failed(failure(sslError: error))
            }
        }
        return .bufferFull
    }

    /// Encrypts all of `bytes` into records waiting in `networkOut`.
    func writePlaintext(_ bytes: UnsafeRawBufferPointer) throws(TLSError) {
        guard !bytes.isEmpty else { return }
        OpenSSLErrorQueue.clear()
        let result = SSL_write(ssl, bytes.baseAddress, Int32(bytes.count))
        guard result == Int32(bytes.count) else {
            throw failure(sslError: SSL_get_error(ssl, result))
        }
    }

    /// Queues our close_notify in `networkOut`.
    func shutdown() {
        OpenSSLErrorQueue.clear()
        _ = SSL_shutdown(ssl)
        OpenSSLErrorQueue.clear()
    }

    // MARK: Peer

    var negotiatedProtocol: String {
        String(cString: SSL_get_version(ssl))
    }

    var negotiatedCipherSuite: String {
        guard let cipher = SSL_get_current_cipher(ssl) else { return "" }
        return String(cString: SSL_CIPHER_get_name(cipher))
    }

    /// The peer certificate's identity. With `SSL_VERIFY_PEER` set the handshake only
    /// completes once the certificate is verified, so what is returned here is trusted.
    func peerIdentity() -> PeerIdentity? {
        guard let certificate = SSL_get0_peer_certificate(ssl) else { return nil }
        var commonName: String?
        var name = [CChar](repeating: 0, count: TLSConnection.commonNameBytesMax)
        let nameBytes = name.withUnsafeMutableBufferPointer { cs_x509_subject_common_name(certificate, $0.baseAddress, $0.count) }
        if nameBytes >= 0 {
            commonName = String(decoding: name[0..<Int(nameBytes)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        var dnsNames: [String] = []
        var ipAddresses: [String] = []
        var sans = [CChar](repeating: 0, count: TLSConnection.subjectAltNamesBytesMax)
        let sanBytes = sans.withUnsafeMutableBufferPointer { cs_x509_subject_alt_names(certificate, $0.baseAddress, $0.count) }
        if sanBytes > 0 {
            let text = String(decoding: sans[0..<Int(sanBytes)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            for line in text.split(separator: "\n") {
                let value = String(line.dropFirst(2))
                if line.hasPrefix("D:") { dnsNames.append(value) } else if line.hasPrefix("I:") { ipAddresses.append(value) }
            }
        }
        return PeerIdentity(commonName: commonName, dnsNames: dnsNames, ipAddresses: ipAddresses)
    }

    // MARK: Errors

    private func failure(sslError: Int32) -> TLSError {
        let reasons = OpenSSLErrorQueue.drain()
        let texts = reasons.map(\.text)
        let verifyResult = Int32(SSL_get_verify_result(ssl))
        if verifyResult != X509_V_OK {
            return verificationFailure(verifyResult, reasons: texts)
        }
        let reasonCodes = Set(reasons.map { cs_err_reason($0.code) })
        if reasonCodes.contains(cs_ssl_r_peer_did_not_return_a_certificate()) {
            return TLSError(.peerCertificateMissing, "the peer sent no client certificate but one is required", openSSLReasons: texts)
        }
        if reasonCodes.contains(cs_ssl_r_certificate_required_alert()) {
            return TLSError(.certificateRequiredByPeer, "the peer requires a client certificate and none was configured", openSSLReasons: texts)
        }
        let phase = handshakeComplete ? "TLS connection failed" : "TLS handshake failed"
        let code: TLSError.Code = handshakeComplete ? .connectionFailed : .handshakeFailed
        let summary = texts.first ?? "SSL error \(sslError)"
        return TLSError(code, "\(phase): \(summary)", openSSLReasons: texts)
    }

    private func verificationFailure(_ result: Int32, reasons: [String]) -> TLSError {
        let detail = String(cString: X509_verify_cert_error_string(Int(result)))
        let code: TLSError.Code
        switch result {
        case X509_V_ERR_CERT_HAS_EXPIRED, X509_V_ERR_CERT_NOT_YET_VALID:
            code = .peerCertificateExpired
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
            X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
            X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, X509_V_ERR_CERT_UNTRUSTED:
            code = .peerCertificateUntrusted
        case X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH:
            code = .peerNameMismatch
        default:
            code = .peerCertificateRejected
        }
        return TLSError(code, "peer certificate rejected: \(detail) (X.509 error \(result))", openSSLReasons: reasons)
    }
}
