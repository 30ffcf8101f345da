import CartRaft
import CartTypes
import CartWire

// Hand-written wire fields for the Raft batch, the hottest message between nodes (every
// append and every acknowledgement of every partition). The bytes are the same as the
// Codable encoding's (fields in CodingKeys order, every non-optional field written, byte
// strings even when empty, nil and empty repeated fields left out); a test compares both paths.

extension RaftBatch: WireMessage {
    /// Each message's fixed fields, plus its entries' data and field overhead.
    public var encodedBytesEstimate: Int {
        messages.reduce(16) { total, item in
            item.message.entries.reduce(total + 48 + item.message.context.count) { $0 + 24 + $1.data.count }
        }
    }

    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        writer.write(1, from)
        for item in messages { try writer.write(2, message: item) }
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        var from: NodeID?
        var messages: [PartitionRaftMessage] = []
        messages.reserveCapacity(8)  // a busy node's batch holds a few partitions' messages
        while let field = try reader.next() {
            switch field.number {
            case 1: from = try field.identifier(NodeID.self)
            case 2: messages.append(try field.message(PartitionRaftMessage.self))
            default: break
            }
        }
        self.init(from: try WireFieldReader.required(from, "from", 1, in: Self.self), messages: messages)
    }
}

extension PartitionRaftMessage: WireMessage {
    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        writer.write(1, partition)
        try writer.writeMessage(2) { (fields) throws(WireEncodingError) in try RaftWire.encode(message, to: &fields) }
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        var partition: PartitionID?
        var message: Message?
        while let field = try reader.next() {
            switch field.number {
            case 1: partition = try field.identifier(PartitionID.self)
            case 2: message = try field.message { (fields) throws(WireEncodingError) in try RaftWire.decodeMessage(&fields) }
            default: break
            }
        }
        self.init(partition: try WireFieldReader.required(partition, "partition", 1, in: Self.self),
                  message: try WireFieldReader.required(message, "message", 2, in: Self.self))
    }
}

/// CartRaft's message types written field by field (CartRaft itself knows nothing of the wire).
enum RaftWire {
    static func encode(_ message: Message, to writer: inout WireFieldWriter) throws(WireEncodingError) {
        writer.write(1, message.kind.rawValue)
        writer.write(2, message.from)
        writer.write(3, message.to)
        writer.write(4, message.term)
        writer.write(5, message.logTerm)
        writer.write(6, message.index)
        for entry in message.entries {
            try writer.writeMessage(7) { (fields) throws(WireEncodingError) in
                fields.write(1, entry.term)
                fields.write(2, entry.index)
                fields.write(3, entry.data)
            }
        }
        writer.write(8, message.commit)
        if let snapshot = message.snapshot {
            try writer.writeMessage(9) { (fields) throws(WireEncodingError) in try encode(snapshot, to: &fields) }
        }
        writer.write(10, message.reject)
        writer.write(11, message.rejectHint)
        writer.write(12, message.context)
        writer.write(13, message.leadershipTransfer)
    }

    static func encode(_ snapshot: Snapshot, to writer: inout WireFieldWriter) throws(WireEncodingError) {
        try writer.writeMessage(1) { (fields) throws(WireEncodingError) in
            fields.write(1, snapshot.metadata.index)
            fields.write(2, snapshot.metadata.term)
            try fields.writeMessage(3) { (voters) throws(WireEncodingError) in
                for voter in snapshot.metadata.configuration.voters { voters.write(1, voter) }
            }
        }
        writer.write(2, snapshot.data)
    }

    static func decodeMessage(_ reader: inout WireFieldReader) throws(WireEncodingError) -> Message {
        var kind: MessageKind?, from: NodeID?, to: NodeID?, term: Term?
        var logTerm: Term?, index: LogIndex?, commit: LogIndex?, reject: Bool?, rejectHint: LogIndex?, transfer: Bool?
        var entries: [Entry] = []
        var snapshot: Snapshot?
        var context: [UInt8] = []
        while let field = try reader.next() {
            switch field.number {
            case 1:
                let raw = try field.uint8()
                guard let decoded = MessageKind(rawValue: raw) else {
                    throw WireEncodingError(.invalidValue, "unknown raft message kind \(raw)")
                }
                kind = decoded
            case 2: from = try field.identifier(NodeID.self)
            case 3: to = try field.identifier(NodeID.self)
            case 4: term = try field.identifier(Term.self)
            case 5: logTerm = try field.identifier(Term.self)
            case 6: index = try field.identifier(LogIndex.self)
            case 7:
                if entries.isEmpty { entries.reserveCapacity(4) }
                entries.append(try field.message { (fields) throws(WireEncodingError) in try decodeEntry(&fields) })
            case 8: commit = try field.identifier(LogIndex.self)
            case 9: snapshot = try field.message { (fields) throws(WireEncodingError) in try decodeSnapshot(&fields) }
            case 10: reject = try field.bool()
            case 11: rejectHint = try field.identifier(LogIndex.self)
            case 12: context = try field.bytes()
            case 13: transfer = try field.bool()
            default: break
            }
        }
        var message = Message(kind: try WireFieldReader.required(kind, "kind", 1, in: Message.self),
                              from: try WireFieldReader.required(from, "from", 2, in: Message.self),
                              to: try WireFieldReader.required(to, "to", 3, in: Message.self),
                              term: try WireFieldReader.required(term, "term", 4, in: Message.self))
        message.logTerm = try WireFieldReader.required(logTerm, "logTerm", 5, in: Message.self)
        message.index = try WireFieldReader.required(index, "index", 6, in: Message.self)
        message.entries = entries
        message.commit = try WireFieldReader.required(commit, "commit", 8, in: Message.self)
        message.snapshot = snapshot
        message.reject = try WireFieldReader.required(reject, "reject", 10, in: Message.self)
        message.rejectHint = try WireFieldReader.required(rejectHint, "rejectHint", 11, in: Message.self)
        message.context = context
        message.leadershipTransfer = try WireFieldReader.required(transfer, "leadershipTransfer", 13, in: Message.self)
        return message
    }

    private static func decodeEntry(_ reader: inout WireFieldReader) throws(WireEncodingError) -> Entry {
        var term: Term?, index: LogIndex?
        var data: [UInt8] = []
        while let field = try reader.next() {
            switch field.number {
            case 1: term = try field.identifier(Term.self)
            case 2: index = try field.identifier(LogIndex.self)
            case 3: data = try field.bytes()
            default: break
            }
        }
        return Entry(term: try WireFieldReader.required(term, "term", 1, in: Entry.self),
                     index: try WireFieldReader.required(index, "index", 2, in: Entry.self), data: data)
    }

    private static func decodeSnapshot(_ reader: inout WireFieldReader) throws(WireEncodingError) -> Snapshot {
        var metadata: SnapshotMetadata?
        var data: [UInt8] = []
        while let field = try reader.next() {
            switch field.number {
            case 1:
                metadata = try field.message { (fields) throws(WireEncodingError) -> SnapshotMetadata in
                    var index: LogIndex?, term: Term?
                    var voters: [NodeID] = []
                    while let inner = try fields.next() {
                        switch inner.number {
                        case 1: index = try inner.identifier(LogIndex.self)
                        case 2: term = try inner.identifier(Term.self)
                        case 3:
                            voters = try inner.message { (list) throws(WireEncodingError) -> [NodeID] in
                                var voters: [NodeID] = []
                                while let voter = try list.next() {
                                    if voter.number == 1 { voters.append(try voter.identifier(NodeID.self)) }
                                }
                                return voters
                            }
                        default: break
                        }
                    }
                    return SnapshotMetadata(index: try WireFieldReader.required(index, "index", 1, in: SnapshotMetadata.self),
                                            term: try WireFieldReader.required(term, "term", 2, in: SnapshotMetadata.self),
                                            configuration: Configuration(voters: voters))
                }
            case 2: data = try field.bytes()
            default: break
            }
        }
        return Snapshot(metadata: try WireFieldReader.required(metadata, "metadata", 1, in: Snapshot.self), data: data)
    }
}
