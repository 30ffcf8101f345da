import CartTypes

/// Names one logical client request; a retry carries the same key.
public struct RequestKey: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public let client: ClientID
    public let request: RequestID

    public init(client: ClientID, request: RequestID) {
        self.client = client
        self.request = request
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.client, lhs.request) < (rhs.client, rhs.request)
    }

    public var description: String { "\(client)/\(request)" }

    enum CodingKeys: Int, CodingKey { case client = 1, request = 2 }
}

/// The result a command had when it was first applied: its events, or why it was refused.
public enum CommandOutcome: Hashable, Codable, Sendable {
    case accepted([Event])
    case refused(DomainError)

    public init(_ result: Result<[Event], DomainError>) {
        switch result {
        case .success(let events): self = .accepted(events)
        case .failure(let error): self = .refused(error)
        }
    }

    public var result: Result<[Event], DomainError> {
        switch self {
        case .accepted(let events): .success(events)
        case .refused(let error): .failure(error)
        }
    }

    enum CodingKeys: Int, CodingKey { case accepted = 1, refused = 2 }
}

/// The request outcomes of a partition's recent past, so that a retried request (same
/// client id and request id) gets its original answer — success or error — instead of being
/// applied again.
///
/// The window is replicated state: it changes only when a command is applied, forgets the
/// oldest entry first (insertion order, identical on every replica), and is part of the
/// snapshot. A key names one command: each outcome is kept with the command's
/// `requestFingerprint`, and a different command sent under a used key (another actor,
/// cart or argument) is refused rather than answered with the first one's outcome. A retry
/// that arrives after its key was forgotten is applied again.
///
/// How long a key is kept: with `retentionMs` > 0, each outcome is kept with the time of the
/// command that made it (the leader's timestamp in the log entry, the same on every replica)
/// and forgotten once a command applied `retentionMs` later arrives, so the window covers
/// the clients' retry horizon whatever the load. `capacity` bounds its memory: past it the
/// oldest is forgotten even if younger than the retention, and `forgottenEarly` counts
/// those (a node's metrics show it; a non-zero count means the load outgrew the capacity).
/// With `retentionMs` = 0 the window keeps exactly the last `capacity` outcomes, as
/// snapshots taken before the retention existed expect.
public struct DedupWindow: Hashable, Sendable {
    /// One remembered request: its outcome and what it asked (nil in entries restored from
    /// snapshots taken before fingerprints were kept: those answer any command).
    public struct Remembered: Hashable, Sendable {
        public let outcome: CommandOutcome
        public let fingerprint: UInt64?
    }

    /// A remembered key in the window's order, with when its command was applied (nil in a
    /// window without retention). The time lives here, not with the outcome, so that
    /// forgetting what the retention no longer covers reads the order alone: no lookup of
    /// the oldest key in `remembered` per applied command, only its removal.
    struct Arrival: Hashable, Sendable {
        let key: RequestKey
        let appliedAt: Timestamp?
    }

    public let capacity: Int
    public let retentionMs: Int64
    private var remembered = ShardedByKey<Remembered>()
    private var order = InsertionOrder<Arrival>()
    /// Entries forgotten by `capacity` while younger than `retentionMs`, since this window
    /// was made or restored. Local bookkeeping: not replicated, not in `==` or snapshots.
    public private(set) var forgottenEarly: UInt64 = 0

    public init(capacity: Int, retentionMs: Int64 = 0) {
        precondition(capacity >= 0, "dedup capacity must not be negative")
        precondition(retentionMs >= 0, "dedup retention must not be negative")
        self.capacity = capacity
        self.retentionMs = retentionMs
    }

    public var count: Int { order.count }

    public func outcome(for key: RequestKey) -> CommandOutcome? { remembered[key]?.outcome }

    /// What `key` was used for, if the window still holds it.
    public func entry(for key: RequestKey) -> Remembered? { remembered[key] }

    /// When the oldest remembered outcome was applied (nil when empty or without retention).
    public var oldestAppliedAt: Timestamp? { order.oldest?.appliedAt }

    /// Oldest first.
    public var entries: [DedupEntry] {
        order.keys.map { arrival in
            let entry = remembered[arrival.key]!
            return DedupEntry(key: arrival.key, outcome: entry.outcome, fingerprint: entry.fingerprint, appliedAt: arrival.appliedAt)
        }
    }

    /// Remembers `outcome` for `key`, applied at `time`, then forgets what the retention and
    /// the capacity no longer cover. `time` is kept only when the window has a retention.
    mutating func record(_ outcome: CommandOutcome, for key: RequestKey, fingerprint: UInt64?, at time: Timestamp?) {
        guard capacity > 0 else { return }
        let appliedAt = retentionMs > 0 ? time : nil
        let earlier = remembered.updateValue(Remembered(outcome: outcome, fingerprint: fingerprint), forKey: key)
        precondition(earlier == nil, "a request key is recorded once; retries are answered from the window")
        order.append(Arrival(key: key, appliedAt: appliedAt))
        // Measured from the command just applied, not from the newest time seen: leaders'
        // clocks may disagree, and a clock that went back only keeps entries longer.
        let horizon = appliedAt.map { $0.millisecondsSinceEpoch - retentionMs }
        while let oldest = order.oldest {
            // An entry without a time (restored from a window that had none) counts as past it.
            let expired = horizon.map { (oldest.appliedAt?.millisecondsSinceEpoch ?? .min) < $0 } ?? false
            let overCapacity = order.count > capacity
            guard expired || overCapacity else { break }
            if overCapacity && !expired && horizon != nil { forgottenEarly += 1 }
            _ = order.removeOldest()
            remembered.removeValue(forKey: oldest.key)
        }
    }

    /// Puts back an entry of a snapshot of this window, oldest first, forgetting nothing: the
    /// window it came from already forgot what it had to, and running the rules again on
    /// timestamps that leaders' clocks made non-monotonic could forget more than it did.
    mutating func restore(_ entry: DedupEntry) {
        precondition(order.count < capacity && remembered[entry.key] == nil, "a snapshot's dedup entries fit its window once each")
        _ = remembered.updateValue(Remembered(outcome: entry.outcome, fingerprint: entry.fingerprint), forKey: entry.key)
        order.append(Arrival(key: entry.key, appliedAt: entry.appliedAt))
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.capacity == rhs.capacity && lhs.retentionMs == rhs.retentionMs
            && lhs.remembered == rhs.remembered && lhs.order == rhs.order
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(capacity)
        hasher.combine(retentionMs)
        hasher.combine(order)
    }
}

/// A window's outcomes by key, in 16 dictionaries picked by the key's low bits. Each grows,
/// and so rehashes, on its own: a window that grows by a thousand entries a second (the
/// first 30 s of a busy partition) rehashes a sixteenth of its keys at a time, at moments a
/// second apart, instead of all of them at once. One dictionary of 25,000 outcomes took a few
/// milliseconds to rehash, and every partition of a node reached that size in the same second.
/// Which dictionary holds a key never shows: the window's order (and count) is
/// `InsertionOrder`'s.
struct ShardedByKey<Value: Hashable & Sendable>: Hashable, Sendable {
    private var shards = [[RequestKey: Value]](repeating: [:], count: 16)

    private static func shard(of key: RequestKey) -> Int {
        Int(truncatingIfNeeded: (key.request.rawValue ^ key.client.rawValue) & 15)
    }

    subscript(key: RequestKey) -> Value? { shards[Self.shard(of: key)][key] }

    mutating func updateValue(_ value: Value, forKey key: RequestKey) -> Value? {
        shards[Self.shard(of: key)].updateValue(value, forKey: key)
    }

    @discardableResult
    mutating func removeValue(forKey key: RequestKey) -> Value? {
        shards[Self.shard(of: key)].removeValue(forKey: key)
    }
}

/// One remembered request, as the snapshot stores it.
public struct DedupEntry: Hashable, Codable, Sendable {
    public let key: RequestKey
    public let outcome: CommandOutcome
    /// The command's `requestFingerprint`; nil in snapshots taken before it was kept.
    public let fingerprint: UInt64?
    /// The command's timestamp, kept when the window has a retention; nil otherwise (and in
    /// snapshots taken before the retention existed).
    public let appliedAt: Timestamp?

    public init(key: RequestKey, outcome: CommandOutcome, fingerprint: UInt64? = nil, appliedAt: Timestamp? = nil) {
        self.key = key
        self.outcome = outcome
        self.fingerprint = fingerprint
        self.appliedAt = appliedAt
    }

    enum CodingKeys: Int, CodingKey { case key = 1, outcome = 2, fingerprint = 3, appliedAt = 4 }
}
