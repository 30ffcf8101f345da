import CartTypes

/// The most recent events of one cart, for watchers that resume from a seq.
///
/// Retention: the last `DomainLimits.historyEventsPerCartMax` events are kept; older ones are
/// forgotten. Reading from a seq older than the oldest kept event fails with
/// `historyTruncated(oldest:)`, and the reader must re-read the whole cart and continue from
/// the cart's current seq.
public struct CartHistory: Hashable, Codable, Sendable {
    /// Oldest first, consecutive seqs.
    public private(set) var events: [CartEvent]

    public init(events: [CartEvent] = []) { self.events = events }

    mutating func append(_ event: CartEvent, keepingAtMost eventsMax: Int) {
        if let last = events.last {
            precondition(event.seq == last.seq.next, "cart history seqs are consecutive")
        }
        guard eventsMax > 0 else { return }
        events.append(event)
        if events.count > eventsMax {
            events.removeFirst(events.count - eventsMax)
        }
    }

    /// Events with seq ≥ `from`, at most `eventsMax` of them. `Seq.zero` and `Seq(1)` both
    /// mean "from the first event"; a seq past the newest event gives an empty list.
    public func read(from: Seq, eventsMax: Int) -> Result<[CartEvent], DomainError> {
        guard let oldest = events.first?.seq else { return .success([]) }
        if from < oldest && oldest > Seq(1) {
            return .failure(.historyTruncated(oldest: oldest))
        }
        let skip = from > oldest ? Int(clamping: from.rawValue - oldest.rawValue) : 0
        guard skip < events.count else { return .success([]) }
        return .success(Array(events[skip...].prefix(max(0, eventsMax))))
    }

    enum CodingKeys: Int, CodingKey { case events = 1 }
}
