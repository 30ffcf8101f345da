/// Who is on the other end, from its verified certificate: later handlers use it to
/// recognise a node (`node-3`) or a user's client certificate.
public struct PeerIdentity: Sendable, Hashable, CustomStringConvertible {
    /// The subject's common name, if the certificate has one.
    public let commonName: String?
    /// subjectAltName DNS entries, in certificate order.
    public let dnsNames: [String]
    /// subjectAltName IP entries, in textual form (`127.0.0.1`, `::1`).
    public let ipAddresses: [String]

    public init(commonName: String?, dnsNames: [String], ipAddresses: [String]) {
        self.commonName = commonName
        self.dnsNames = dnsNames
        self.ipAddresses = ipAddresses
    }

    public var description: String {
        "PeerIdentity(cn: \(commonName ?? "-"), dns: \(dnsNames), ip: \(ipAddresses))"
    }
}

/// Fired as a user inbound event once the handshake has finished and the peer verified.
public struct TLSHandshakeCompleted: Sendable, Hashable {
    /// The verified peer certificate's identity; `nil` when the peer presented none (a server
    /// that does not require client certificates never asks for one).
    public let peer: PeerIdentity?
    /// The negotiated protocol, e.g. `TLSv1.3`.
    public let protocolVersion: String
    /// The negotiated cipher suite, e.g. `TLS_AES_256_GCM_SHA384`.
    public let cipherSuite: String
}
