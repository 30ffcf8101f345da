import NIOCore

/// The header every frame starts with, after the 4-byte length prefix.
///
/// ```
/// offset size field
///      0    1 version       protocol version of this frame (1)
///      1    1 type          FrameType
///      2    2 flags         FrameFlags, big-endian
///      4    4 stream id     big-endian; 0 = the connection
///      8    2 method id     big-endian; non-zero on requests only
///     10    8 deadline ms   big-endian; only if flags has hasDeadline
/// ```
public struct FrameHeader: Hashable, Sendable {
    /// Bytes of the header without the optional deadline.
    public static let fixedBytes = 10
    /// Bytes of the optional deadline.
    public static let deadlineBytes = 8

    public var version: UInt8
    public var type: FrameType
    public var streamID: StreamID
    public var methodID: MethodID
    /// Milliseconds the caller will still wait for the answer, measured when the frame was
    /// written. Relative rather than absolute so that the two peers' clocks never need to
    /// agree; the receiver turns it into a local deadline on arrival (gRPC's `grpc-timeout`
    /// makes the same choice). The time in flight is not subtracted, so the server's deadline
    /// is slightly later than the client's, never earlier.
    public var deadlineMs: UInt64?
    /// A request whose caller wants no answer (`FrameFlags.noReply`).
    public var noReply: Bool

    public init(version: UInt8 = WireProtocol.versionCurrent, type: FrameType, streamID: StreamID,
                methodID: MethodID = .none, deadlineMs: UInt64? = nil, noReply: Bool = false) {
        self.version = version
        self.type = type
        self.streamID = streamID
        self.methodID = methodID
        self.deadlineMs = deadlineMs
        self.noReply = noReply
    }

    public var flags: FrameFlags {
        var flags: FrameFlags = deadlineMs == nil ? [] : .hasDeadline
        if noReply { flags.insert(.noReply) }
        return flags
    }

    /// Bytes this header takes on the wire.
    public var encodedBytes: Int { Self.fixedBytes + (deadlineMs == nil ? 0 : Self.deadlineBytes) }

    /// Checks the rules that tie the header's fields together; both the reader and the
    /// writer apply them, so a peer can never send what it would itself reject.
    public func validate() throws(FrameError) {
        switch type.streamScope {
        case .connection where !streamID.isConnection:
            throw FrameError(.invalidStreamID, "\(type) frame must use stream 0, not \(streamID.rawValue)")
        case .stream where streamID.isConnection:
            throw FrameError(.invalidStreamID, "\(type) frame needs a non-zero stream id")
        default:
            break
        }
        if type == .request {
            guard methodID != .none else {
                throw FrameError(.invalidMethodID, "request frame needs a non-zero method id")
            }
        } else {
            guard methodID == .none else {
                throw FrameError(.invalidMethodID, "\(type) frame must have method id 0, not \(methodID.rawValue)")
            }
            guard deadlineMs == nil else {
                throw FrameError(.invalidFlags, "only request frames may carry a deadline, not \(type)")
            }
            guard !noReply else {
                throw FrameError(.invalidFlags, "only request frames may ask for no reply, not \(type)")
            }
        }
    }

    /// Writes the header (not the length prefix).
    func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(version)
        buffer.writeInteger(type.rawValue)
        buffer.writeInteger(flags.rawValue)
        buffer.writeInteger(streamID.rawValue)
        buffer.writeInteger(methodID.rawValue)
        if let deadlineMs { buffer.writeInteger(deadlineMs) }
    }

    /// Reads and validates a header from a buffer holding exactly one frame (without its
    /// length prefix).
    static func read(from frame: inout ByteBuffer) throws(FrameError) -> FrameHeader {
        guard let version: UInt8 = frame.readInteger(),
              let typeByte: UInt8 = frame.readInteger(),
              let flagBits: UInt16 = frame.readInteger(),
              let stream: UInt32 = frame.readInteger(),
              let method: UInt16 = frame.readInteger()
        else {
            throw FrameError(.frameTooShort, "frame shorter than the \(fixedBytes)-byte header")
        }
        guard WireProtocol.versionsSupported.contains(version) else {
            throw FrameError(.unsupportedVersion, "frame version \(version) is not one of \(WireProtocol.versionsSupported)")
        }
        guard let type = FrameType(rawValue: typeByte) else {
            throw FrameError(.unknownFrameType, "frame type \(typeByte) is not defined")
        }
        let flags = FrameFlags(rawValue: flagBits)
        guard FrameFlags.defined.isSuperset(of: flags) else {
            throw FrameError(.invalidFlags, "undefined flag bits 0x\(String(flagBits & ~FrameFlags.defined.rawValue, radix: 16)) set on \(type) frame")
        }
        var deadlineMs: UInt64?
        if flags.contains(.hasDeadline) {
            guard let deadline: UInt64 = frame.readInteger() else {
                throw FrameError(.frameTooShort, "deadline flag set but frame ends before the 8-byte deadline")
            }
            deadlineMs = deadline
        }
        let header = FrameHeader(version: version, type: type, streamID: StreamID(stream),
                                 methodID: MethodID(method), deadlineMs: deadlineMs,
                                 noReply: flags.contains(.noReply))
        try header.validate()
        return header
    }
}
