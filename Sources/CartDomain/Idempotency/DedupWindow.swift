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

/// The last `capacity` request outcomes of a partition, so that a retried request (same
/// client id and request id) gets its original answer — success or error — instead of being
/// applied again.
///
/// The window is replicated state: it changes only when a command is applied, forgets the
/// oldest entry first (insertion order, identical on every replica), and is part of the
/// snapshot. A key names one command: each outcome is kept with the command's
/// `requestFingerprint`, and a different command sent under a used key (another actor,
/// cart or argument) is refused rather than answered with the first one's outcome. A retry
/// that arrives after its key was evicted is applied again, which is why `capacity` should
/// cover the clients' retry horizon.
public struct DedupWindow: Hashable, Sendable {
    /// One remembered request: its outcome and what it asked (nil in entries restored from
    /// snapshots taken before fingerprints were kept: those answer any command).
    public struct Remembered: Hashable, Sendable {
        public let outcome: CommandOutcome
        public let fingerprint: UInt64?
    }

    public let capacity: Int
    private var remembered: [RequestKey: Remembered] = [:]
    private var order = InsertionOrder<RequestKey>()

    public init(capacity: Int) {
        precondition(capacity >= 0, "dedup capacity must not be negative")
        self.capacity = capacity
    }

    public var count: Int { remembered.count }

    public func outcome(for key: RequestKey) -> CommandOutcome? { remembered[key]?.outcome }

    /// What `key` was used for, if the window still holds it.
    public func entry(for key: RequestKey) -> Remembered? { remembered[key] }

    /// Oldest first.
    public var entries: [DedupEntry] {
        order.keys.map { key in
            let entry = remembered[key]!
            return DedupEntry(key: key, outcome: entry.outcome, fingerprint: entry.fingerprint)
        }
    }

    mutating func record(_ outcome: CommandOutcome, for key: RequestKey, fingerprint: UInt64?) {
        guard capacity > 0 else { return }
        let earlier = remembered.updateValue(Remembered(outcome: outcome, fingerprint: fingerprint), forKey: key)
        precondition(earlier == nil, "a request key is recorded once; retries are answered from the window")
        order.append(key)
        while order.count > capacity, let oldest = order.removeOldest() {
            remembered.removeValue(forKey: oldest)
        }
    }
}

/// One remembered request, as the snapshot stores it.
public struct DedupEntry: Hashable, Codable, Sendable {
    public let key: RequestKey
    public let outcome: CommandOutcome
    /// The command's `requestFingerprint`; nil in snapshots taken before it was kept.
    public let fingerprint: UInt64?

    public init(key: RequestKey, outcome: CommandOutcome, fingerprint: UInt64? = nil) {
        self.key = key
        self.outcome = outcome
        self.fingerprint = fingerprint
    }

    enum CodingKeys: Int, CodingKey { case key = 1, outcome = 2, fingerprint = 3 }
}
