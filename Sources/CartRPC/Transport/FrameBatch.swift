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
    /// The storage of the last batch handed out. Once the channel has written it (with TLS,
    /// as soon as it is encrypted) this is its only reference, and the next batch reuses it
    /// instead of allocating.
    private var spare: ByteBuffer?

    init(limits: FrameLimits) {
        self.limits = limits
    }

    /// Appends `frame`; fails, appending nothing, if it breaks a header rule or the size limit.
    mutating func append(_ frame: Frame, allocator: ByteBufferAllocator) throws(FrameError) {
        if pending == nil {
            if var reused = spare {
                spare = nil
                reused.clear()  // copies only if the channel still holds the last batch
                pending = reused
            } else {
                pending = allocator.buffer(capacity: max(Self.batchBytesInitial,
                                                         FrameCodec.lengthPrefixBytes + frame.lengthPrefixValue))
            }
        }
        try FrameCodec.encode(frame, into: &pending!, limits: limits)
    }

    /// True when frames wait to be taken.
    var hasPending: Bool { pending != nil }

    /// The bytes gathered so far, leaving the batch empty.
    mutating func take() -> ByteBuffer? {
        defer { pending = nil }
        if let pending, pending.capacity <= Self.spareBytesMax { spare = pending }
        return pending
    }

    /// A batch larger than this is not kept for reuse, so one burst does not pin memory.
    static let spareBytesMax = 64 * 1024
}
