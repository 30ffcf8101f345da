import CartDomain
import CartRaft
import CartRPC
import CartTypes
import CartWire

// Node-to-node messages, accepted only on the peer port from a node that proved its
// identity with a cluster certificate (mutual TLS).

/// One Raft message of one partition's group.
public struct PartitionRaftMessage: Codable, Hashable, Sendable {
    public var partition: PartitionID
    public var message: Message

    public init(partition: PartitionID, message: Message) {
        self.partition = partition
        self.message = message
    }

    enum CodingKeys: Int, CodingKey { case partition = 1, message = 2 }
}

/// `Peer.raft`: every Raft message the sender produced for the receiver during one turn of
/// its event loops, for any number of partitions (one frame instead of one per message).
public struct RaftBatch: Codable, Hashable, Sendable, RPCMessage {
    public var from: NodeID
    public var messages: [PartitionRaftMessage]

    public init(from: NodeID, messages: [PartitionRaftMessage]) {
        self.from = from
        self.messages = messages
    }

    enum CodingKeys: Int, CodingKey { case from = 1, messages = 2 }
}

/// The answer to `Peer.raft`: the receiver handed the messages to its replicas. Raft needs no
/// more than that; its own messages carry every acknowledgement.
public struct RaftBatchAck: Codable, Hashable, Sendable, RPCMessage {
    /// Messages for partitions the receiver does not host (dropped).
    public var unknownPartitions: UInt32

    public init(unknownPartitions: UInt32 = 0) { self.unknownPartitions = unknownPartitions }

    enum CodingKeys: Int, CodingKey { case unknownPartitions = 1 }
}

/// `Peer.forward`: a client request that reached a node which does not lead the partition,
/// passed to the leader with the client's authenticated user. The leader serves it exactly as
/// if the client had called it (same handler, same authorization) and the answer (or error)
/// goes back unchanged.
public struct ForwardedCall: Codable, Hashable, Sendable, RPCMessage {
    public var method: MethodID
    /// The user the forwarding node authenticated, if any.
    public var actor: UserID?
    /// The request's encoding as the client sent it.
    public var payload: [UInt8]

    public init(method: MethodID, actor: UserID?, payload: [UInt8]) {
        self.method = method
        self.actor = actor
        self.payload = payload
    }

    enum CodingKeys: Int, CodingKey { case method = 1, actor = 2, payload = 3 }
}

public struct ForwardedReply: Codable, Hashable, Sendable, RPCMessage {
    /// The response's encoding, to hand to the client unchanged.
    public var payload: [UInt8]

    public init(payload: [UInt8]) { self.payload = payload }

    enum CodingKeys: Int, CodingKey { case payload = 1 }
}

/// `Peer.propose`: a node-internal command (checkout saga steps, user links) for the leader
/// of `partition` to propose and apply.
public struct ProposeCommandRequest: Codable, Hashable, Sendable, RPCMessage {
    public var partition: PartitionID
    public var command: Command
    public var request: RequestKey?

    public init(partition: PartitionID, command: Command, request: RequestKey? = nil) {
        self.partition = partition
        self.command = command
        self.request = request
    }

    enum CodingKeys: Int, CodingKey { case partition = 1, command = 2, request = 3 }
}

/// What the command did once applied: its events, or the domain rule it broke. Transport
/// and leadership failures are RPC errors instead (`notLeader`, `unavailable`, …).
public struct ProposeCommandReply: Codable, Hashable, Sendable, RPCMessage {
    public var outcome: CommandOutcome

    public init(outcome: CommandOutcome) { self.outcome = outcome }

    enum CodingKeys: Int, CodingKey { case outcome = 1 }
}
