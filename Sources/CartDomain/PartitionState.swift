import CartTypes

/// The domain state of one partition: the carts, items, users and stock reservations whose
/// keys hash to it, each cart's recent history, and the request dedup window.
///
/// It is a pure, deterministic state machine: no clock, no IO, no randomness, and no
/// Dictionary iteration order ever reaches an event or a snapshot byte. Every replica that
/// applies the same commands in the same order holds the same state.
///
/// The caller (the partition replica in the node) drives it like this:
/// 1. Propose a `CommandEnvelope` (command, the leader's timestamp, the client's request key)
///    to the partition's Raft log.
/// 2. When the entry is committed, call `apply(_:)` with it, on every replica, in log order.
///    It answers a retried request from the dedup window; otherwise it decides the command
///    against the current state (`decide(_:at:)`, read-only), applies the resulting events
///    with `apply(event:)`, and records the outcome under the request key.
/// 3. Answer the client with the result, and publish the events to the cart's watchers.
/// 4. To compact the log, take `encodedSnapshot(using: BinarySnapshotCodec())` after applying
///    index N and store it with N; to recover, `init(snapshotBytes:using:)` and apply the
///    entries after N.
///
/// Replaying the events alone (`apply(event:)` from an empty state) rebuilds the carts,
/// items, users, reservations and histories; the dedup window is rebuilt by replaying
/// commands (what the Raft log holds) and travels in snapshots.
public struct PartitionState: Equatable, Sendable {
    public let limits: DomainLimits
    public internal(set) var carts: [CartID: Cart] = [:]
    public internal(set) var histories: [CartID: CartHistory] = [:]
    public internal(set) var items: [ItemID: Item] = [:]
    public internal(set) var users: [UserID: User] = [:]
    public internal(set) var reservations: [CheckoutID: Reservation] = [:]
    /// Settled reservations in settlement order: the oldest is forgotten first.
    var settledReservations = InsertionOrder<CheckoutID>()
    public internal(set) var heldReservationCount = 0
    public internal(set) var dedup: DedupWindow
    /// The carts whose checkout record is not settled, so that `unsettledCheckouts()` (the
    /// leader's checkout sweep, every few seconds) reads these instead of every cart.
    /// Derived from `carts`: kept in step by `apply(cartEvent:)`, rebuilt on restore, never
    /// in a snapshot. Equal carts give equal sets, so it leaves `==` meaning what it meant.
    /// Its iteration order is never read, only its sorted contents.
    var unsettledCheckoutCarts: Set<CartID> = []
    /// Per cart, the links and unlinks the users' partitions may still miss (`PendingLink`,
    /// sorted by user); in snapshots beside each cart.
    public internal(set) var linksPending: [CartID: [PendingLink]] = [:]

    public init(limits: DomainLimits = .standard) {
        self.limits = limits
        self.dedup = DedupWindow(capacity: limits.dedupEntriesMax, retentionMs: limits.dedupRetentionMs)
    }

    /// Applies one committed log entry (steps 2 and 3 of the contract above).
    @discardableResult
    public mutating func apply(_ envelope: CommandEnvelope) -> Result<[Event], DomainError> {
        applyEntry(envelope).result
    }

    /// `apply`, also saying whether the answer came from the dedup window: a retried request,
    /// which changed nothing and answers with its first attempt's events (already published
    /// when that attempt was applied).
    public mutating func applyEntry(_ envelope: CommandEnvelope) -> (result: Result<[Event], DomainError>, repeated: Bool) {
        if let key = envelope.request, let earlier = earlierOutcome(of: envelope.command, request: key) {
            return (earlier, true)
        }
        let result: Result<[Event], DomainError>
        do {
            let events = try decide(envelope.command, at: envelope.timestamp)
            for event in events { apply(event: event) }
            result = .success(events)
        } catch {
            result = .failure(error)
        }
        if let key = envelope.request {
            dedup.record(CommandOutcome(result), for: key, fingerprint: envelope.command.requestFingerprint, at: envelope.timestamp)
        }
        return (result, false)
    }

    /// The answer the dedup window gives `command` under `request`, if the key was used: the
    /// first outcome for the same command (a retry), a refusal for another one; nil for a key
    /// not (or no longer) remembered, which applies the command.
    public func earlierOutcome(of command: Command, request key: RequestKey) -> Result<[Event], DomainError>? {
        guard let earlier = dedup.entry(for: key) else { return nil }
        guard earlier.fingerprint == nil || earlier.fingerprint == command.requestFingerprint else {
            return .failure(.invalidArgument("request key \(key) was already used for a different request"))
        }
        return earlier.outcome.result
    }

    @discardableResult
    public mutating func apply(_ command: Command, at timestamp: Timestamp,
                               request: RequestKey? = nil) -> Result<[Event], DomainError> {
        apply(CommandEnvelope(command, at: timestamp, request: request))
    }

    /// Decides what `command` does to the current state without changing it: the events to
    /// apply, or the rule it breaks.
    public func decide(_ command: Command, at timestamp: Timestamp) throws(DomainError) -> [Event] {
        switch command {
        case .createCart(let c): try decideCreateCart(c, at: timestamp)
        case .addItem(let c): try decideAddItem(c, at: timestamp)
        case .removeItem(let c): try decideRemoveItem(c, at: timestamp)
        case .setQuantity(let c): try decideSetQuantity(c, at: timestamp)
        case .shareCart(let c): try decideShareCart(c, at: timestamp)
        case .unshareCart(let c): try decideUnshareCart(c, at: timestamp)
        case .beginCheckout(let c): try decideBeginCheckout(c, at: timestamp)
        case .completeCheckout(let c): try decideCompleteCheckout(c, at: timestamp)
        case .abortCheckout(let c): try decideAbortCheckout(c, at: timestamp)
        case .settleCheckout(let c): try decideSettleCheckout(c, at: timestamp)
        case .putItem(let c): try decidePutItem(c)
        case .adjustStock(let c): try decideAdjustStock(c)
        case .reserveStock(let c): try decideReserveStock(c)
        case .releaseStock(let c): try decideReleaseStock(c)
        case .commitReservation(let c): try decideCommitReservation(c)
        case .registerUser(let c): try decideRegisterUser(c, at: timestamp)
        case .linkCart(let c): try decideLinkCart(c)
        case .unlinkCart(let c): try decideUnlinkCart(c)
        case .confirmLinks(let c): try decideConfirmLinks(c)
        }
    }
}
