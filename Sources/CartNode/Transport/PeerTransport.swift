import CartAPI
import CartRaft
import CartRPC
import CartTLS
import CartTypes
import CartWire
import Logging
import NIOCore

/// Every peer link of this node, keyed by node id.
final class PeerTransport: Sendable {
    let node: NodeID
    let links: [NodeID: PeerLink]

    init(node: NodeID, members: [ClusterMember], tls: TLSContext, eventLoopGroup: any EventLoopGroup, metrics: NodeMetrics,
         snapshotChunkBytes: Int = PeerLink.snapshotChunkBytesDefault, logger: Logger) {
        self.node = node
        var links: [NodeID: PeerLink] = [:]
        for member in members where member.id != node {
            let (host, port) = Self.split(member.peerAddress)
            // The server must prove it is the member dialled, not any node of the cluster CA
            // that happens to listen at that address: its certificate must name it
            // (PeerGateway.certificate, checked by OpenSSL during the handshake).
            let security = RPCTransportSecurity.tls(tls, expectedPeerName: PeerGateway.certificateName(of: member.id))
            var configuration = RPCClientConfiguration(host: host, port: port, security: security,
                                                       identity: "node-\(node.rawValue)", role: .node,
                                                       eventLoopGroup: eventLoopGroup)
            configuration.nodeID = node
            configuration.connectTimeoutMs = 1_000
            configuration.connectAttemptsMax = 1
            configuration.reconnectBackoffInitialMs = 50
            configuration.reconnectBackoffMaxMs = 500
            configuration.frameBytesMax = FrameLimits.frameBytesHardCap
            configuration.callTimeoutMsDefault = 10_000
            links[member.id] = PeerLink(member: member, from: node, client: RPCClient(configuration: configuration),
                                        fallbackLoop: eventLoopGroup.next(), metrics: metrics,
                                        snapshotChunkBytes: snapshotChunkBytes, logger: logger)
        }
        self.links = links
    }

    /// Hands `messages` of one partition to the links of their destinations.
    func send(_ messages: [Message], partition: PartitionID, replica: (any SnapshotDeliveryListener)?) {
        for message in messages {
            links[message.to]?.enqueue(PartitionRaftMessage(partition: partition, message: message), replica: replica)
        }
    }

    /// `listener` hears of every link's new and lost connections (`PeerLink.Listener`).
    func listen(_ listener: PeerLink.Listener) {
        for link in links.values { link.listen(listener) }
    }

    func shutdown() async {
        for link in links.values { await link.shutdown() }
    }

    /// `host:port` → (host, port); a malformed address yields port 0 (connects fail, typed).
    static func split(_ address: String) -> (String, Int) {
        guard let colon = address.lastIndex(of: ":") else { return (address, 0) }
        return (String(address[..<colon]), Int(address[address.index(after: colon)...]) ?? 0)
    }
}
