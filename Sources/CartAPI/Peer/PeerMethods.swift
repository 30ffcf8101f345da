import CartRPC
import CartWire

// Peer-only methods: ids 0x0601…0x06FF. Served on the peer port only.

extension MethodID {
    public static let peerRaft = MethodID(0x0601)
    public static let peerForward = MethodID(0x0602)
    public static let peerPropose = MethodID(0x0603)
    public static let peerSnapshot = MethodID(0x0604)
    public static let peerUserExists = MethodID(0x0605)
}

extension RPCMethod where Request == RaftBatch, Response == RaftBatchAck {
    public static var peerRaft: Self { RPCMethod(id: .peerRaft, name: "Peer.raft", kind: .unary) }
}

extension RPCMethod where Request == ForwardedCall, Response == ForwardedReply {
    public static var peerForward: Self { RPCMethod(id: .peerForward, name: "Peer.forward", kind: .unary) }
}

extension RPCMethod where Request == ProposeCommandRequest, Response == ProposeCommandReply {
    public static var peerPropose: Self { RPCMethod(id: .peerPropose, name: "Peer.propose", kind: .unary) }
}

extension RPCMethod where Request == SnapshotChunk, Response == SnapshotChunkAck {
    public static var peerSnapshot: Self { RPCMethod(id: .peerSnapshot, name: "Peer.snapshot", kind: .unary) }
}

extension RPCMethod where Request == UserRequest, Response == UserExistsReply {
    public static var peerUserExists: Self { RPCMethod(id: .peerUserExists, name: "Peer.userExists", kind: .unary) }
}
