import NIOCore

/// Cuts a byte stream into frames and writes frames into bytes. Pure functions over
/// `ByteBuffer`: the NIO handlers around them (`FrameDecoder`, `FrameEncoder`) only adapt
/// them to a channel pipeline, and the fuzz target calls them directly.
public enum FrameCodec {
    /// Bytes of the length prefix in front of every frame.
    public static let lengthPrefixBytes = 4

    /// Reads one complete frame from the front of `buffer`, or returns nil (consuming
    /// nothing) if the frame has not fully arrived. The length prefix is checked against
    /// `limits.frameBytesMax` as soon as it is readable, so an oversized frame fails before
    /// any of its body is buffered. The payload is a slice of `buffer`, not a copy.
    public static func decode(from buffer: inout ByteBuffer, limits: FrameLimits = .default) throws(FrameError) -> Frame? {
        guard let length: UInt32 = buffer.getInteger(at: buffer.readerIndex) else { return nil }
        let frameBytes = Int(length)
        guard frameBytes <= limits.frameBytesMax else {
            throw FrameError(.frameTooLarge, "frame of \(frameBytes) bytes exceeds frameBytesMax \(limits.frameBytesMax)")
        }
        guard frameBytes >= FrameHeader.fixedBytes else {
            throw FrameError(.frameTooShort, "frame of \(frameBytes) bytes is shorter than the \(FrameHeader.fixedBytes)-byte header")
        }
        guard buffer.readableBytes >= lengthPrefixBytes + frameBytes else { return nil }
        buffer.moveReaderIndex(forwardBy: lengthPrefixBytes)
        var body = buffer.readSlice(length: frameBytes)!
        let header = try FrameHeader.read(from: &body)
        return Frame(header: header, payload: body)
    }

    /// Appends `frame` to `buffer`. Fails, writing nothing, if the frame breaks a header rule
    /// or would exceed `limits.frameBytesMax` at the receiver.
    public static func encode(_ frame: Frame, into buffer: inout ByteBuffer, limits: FrameLimits = .default) throws(FrameError) {
        try frame.header.validate()
        let frameBytes = frame.lengthPrefixValue
        guard frameBytes <= limits.frameBytesMax else {
            throw FrameError(.frameTooLarge, "frame of \(frameBytes) bytes exceeds frameBytesMax \(limits.frameBytesMax)")
        }
        buffer.reserveCapacity(minimumWritableBytes: lengthPrefixBytes + frameBytes)
        buffer.writeInteger(UInt32(frameBytes))
        frame.header.write(to: &buffer)
        var payload = frame.payload
        buffer.writeBuffer(&payload)
    }

    /// `frame` as a fresh buffer.
    public static func encode(_ frame: Frame, limits: FrameLimits = .default) throws(FrameError) -> ByteBuffer {
        var buffer = ByteBuffer()
        try encode(frame, into: &buffer, limits: limits)
        return buffer
    }
}
