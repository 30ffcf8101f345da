import CartTypes

/// The most recent events of one cart, for watchers that resume from a seq.
///
/// Retention: the last `DomainLimits.historyEventsPerCartMax` events are kept; older ones are
/// forgotten. Reading from a seq older than the oldest kept event fails with
/// `historyTruncated(oldest:)`, and the reader must re-read the whole cart and continue from
/// the cart's current seq.
///
/// Every accepted cart command appends here on every replica, and a long-running cart's
/// history is always full, so the events live in a ring: appending overwrites the oldest
/// event in place. The encoding is the array of events, oldest first.
public struct CartHistory: Hashable, Codable, Sendable {
    /// Oldest first, consecutive seqs.
    private(set) var retained: RingBuffer<CartEvent>

    public init(events: [CartEvent] = []) { retained = RingBuffer(events) }

    /// The retained events, oldest first (a copy).
    public var events: [CartEvent] { Array(retained) }

    mutating func append(_ event: CartEvent, keepingAtMost eventsMax: Int) {
        if let newest = newestSeq {
            precondition(event.seq == newest.next, "cart history seqs are consecutive")
        }
        guard eventsMax > 0 else { return }
        retained.append(event, keepingAtMost: eventsMax)
    }

    // Read through the ring's subscript rather than `first`/`last`, which would copy the
    // whole event to read its seq.
    private var oldestSeq: Seq? { retained.isEmpty ? nil : retained[0].seq }
    private var newestSeq: Seq? { retained.isEmpty ? nil : retained[retained.count - 1].seq }

    /// Events with seq ≥ `from`, at most `eventsMax` of them. `Seq.zero` and `Seq(1)` both
    /// mean "from the first event"; a seq past the newest event gives an empty list.
    public func read(from: Seq, eventsMax: Int) -> Result<[CartEvent], DomainError> {
        guard let oldest = oldestSeq else { return .success([]) }
        if from < oldest && oldest > Seq(1) {
            return .failure(.historyTruncated(oldest: oldest))
        }
        let skip = from > oldest ? Int(clamping: from.rawValue - oldest.rawValue) : 0
        guard skip < retained.count else { return .success([]) }
        return .success(Array(retained[skip...].prefix(max(0, eventsMax))))
    }

    enum CodingKeys: Int, CodingKey { case events = 1 }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        retained = try container.decode(RingBuffer<CartEvent>.self, forKey: .events)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(retained, forKey: .events)
    }
}
