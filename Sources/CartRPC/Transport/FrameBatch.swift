import CartWire
import NIOCore

/// The frames a connection handler has written since its last flush, encoded into one
/// buffer: a batch of answers to one socket read costs one write (and one TLS record)
/// instead of one per frame.
struct FrameBatch {
    /// Capacity of a fresh batch buffer; enough for a batch of small answers.
    static let batchBytesInitial = 4096

    let limits: FrameLimits
    private var pending: ByteBuffer?

    init(limits: FrameLimits) {
        self.limits = limits
    }

    /// Appends `frame`; fails, appending nothing, if it breaks a header rule or the size limit.
    mutating func append(_ frame: Frame, allocator: ByteBufferAllocator) throws(FrameError) {
        if pending == nil {
            pending = allocator.buffer(capacity: max(Self.batchBytesInitial,
                                                     FrameCodec.lengthPrefixBytes + frame.lengthPrefixValue))
        }
        try FrameCodec.encode(frame, into: &pending!, limits: limits)
    }

    /// The bytes gathered so far, leaving the batch empty.
    mutating func take() -> ByteBuffer? {
        defer { pending = nil }
        return pending
    }
}
