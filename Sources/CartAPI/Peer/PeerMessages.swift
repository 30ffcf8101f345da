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

/// `Peer.snapshot`: one piece of a Raft snapshot message. A snapshot's state can be far
/// larger than a frame may be, so its data travels in order, a piece per call, each call
/// sent once the previous one was answered; the receiver hands the whole message to its
/// replica when the last piece arrives. Every piece carries the message itself (its
/// snapshot's data left empty), so the receiver can check that a piece continues the
/// transfer it has, and the sender hears about the delivery from the last piece's answer.
public struct SnapshotChunk: Codable, Hashable, Sendable, RPCMessage {
    public var from: NodeID
    public var partition: PartitionID
    /// The snapshot message, with `snapshot.data` empty.
    public var message: Message
    /// Where `data` starts in the snapshot's data.
    public var offset: UInt64
    /// The length of the snapshot's data, the same in every piece of one transfer.
    public var totalBytes: UInt64
    public var data: [UInt8]

    public init(from: NodeID, partition: PartitionID, message: Message, offset: UInt64, totalBytes: UInt64, data: [UInt8]) {
        self.from = from
        self.partition = partition
        self.message = message
        self.offset = offset
        self.totalBytes = totalBytes
        self.data = data
    }

    /// Whether this piece ends its transfer.
    public var isLast: Bool { offset + UInt64(data.count) == totalBytes }

    enum CodingKeys: Int, CodingKey { case from = 1, partition = 2, message = 3, offset = 4, totalBytes = 5, data = 6 }
}

/// The answer to `Peer.snapshot`: how much of the snapshot's data the receiver now holds.
/// When that is all of it, the message went to the partition's replica.
public struct SnapshotChunkAck: Codable, Hashable, Sendable, RPCMessage {
    public var receivedBytes: UInt64

    public init(receivedBytes: UInt64) { self.receivedBytes = receivedBytes }

    enum CodingKeys: Int, CodingKey { case receivedBytes = 1 }
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

/// `Peer.userExists` (asked with a `UserRequest`): whether the user is registered, read at
/// the leader of the user's partition (linearizable). What a node asks before it shares a
/// cart with someone.
public struct UserExistsReply: Codable, Hashable, Sendable, RPCMessage {
    public var exists: Bool

    public init(exists: Bool) { self.exists = exists }

    enum CodingKeys: Int, CodingKey { case exists = 1 }
}
