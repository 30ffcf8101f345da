import CartTypes
import CartWire

// The log entry's encoding. Every cart write is one envelope, encoded once by the leader and
// decoded on apply by every replica, so it is written field by field instead of through the
// generic Codable walk. The bytes are exactly the Codable encoding's (the log format is that
// encoding; old logs and snapshots stay readable): a test compares both paths byte for byte
// and decodes corrupted inputs both ways.
//
// On the wire (proto-spec/PROTOCOL.md §6):
//   1 command    message { <case number> message { 1 (_0) message { the command's fields } } }
//   2 timestamp  zigzag varint, milliseconds since the epoch
//   3 request    message { 1 client varint, 2 request varint }, absent when nil

extension CommandEnvelope {
    /// The envelope as a log entry's data. The hot commands (see `HotCommandWire`) are
    /// written by hand; every other command goes through Codable inside the same call.
    public func logEntryBytes() throws(WireEncodingError) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(HotCommandWire.encodedBytesEstimate(command))
        try BinaryEncoder().encode(self, into: &bytes)
        return bytes
    }

    /// Reads an envelope from a log entry's data. Any input gives an envelope or a typed
    /// error, the same answer the Codable decoder gives.
    public init(logEntryBytes bytes: [UInt8]) throws(WireEncodingError) {
        self = try BinaryDecoder().decode(CommandEnvelope.self, from: bytes)
    }
}

extension CommandEnvelope: WireMessage {
    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        try HotCommandWire.encode(command, field: 1, to: &writer)
        writer.write(2, timestamp.millisecondsSinceEpoch)
        if let request {
            try writer.write(3, message: request)
        }
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        // Remember the last occurrence of each field and decode only that one: a repeated
        // field takes its last value, and earlier ones are skipped unread, as in Codable.
        var command: WireField?, timestamp: WireField?, request: WireField?
        while let field = try reader.next() {
            switch field.number {
            case 1: command = field
            case 2: timestamp = field
            case 3: request = field
            default: break
            }
        }
        // In field order, so that a damaged entry fails with the error Codable reports.
        let decodedCommand = try HotCommandWire.decodeCommand(command.required("command", 1, in: Self.self))
        let milliseconds = try timestamp.required("timestamp", 2, in: Self.self).int64()
        let decodedRequest = try request?.message(RequestKey.self)
        self.init(decodedCommand, at: Timestamp(millisecondsSinceEpoch: milliseconds), request: decodedRequest)
    }
}
