import CartDomain
import CartTypes

/// One way the cluster broke a promise, for one cart or one item's stock.
public struct LedgerViolation: Sendable, Equatable, CustomStringConvertible {
    /// The cart the promise was about; nil for an item's stock.
    public let cart: CartID?
    /// What the promise was about, for the summary: "cart …" or "item …".
    public let subject: String
    public let what: String

    public init(cart: CartID, _ what: String) {
        self.cart = cart
        subject = "cart \(cart)"
        self.what = what
    }

    public init(item: ItemID, _ what: String) {
        cart = nil
        subject = "item \(item)"
        self.what = what
    }

    public var description: String { "\(subject): \(what)" }
}

/// What one cart's history says about the adds of its ledger.
public struct LedgerVerdict: Sendable, Equatable {
    public var violations: [LedgerViolation] = []
    /// Unanswered adds the history shows applied (once), and those it does not show.
    public var unansweredApplied = 0
    public var unansweredAbsent = 0
}

/// The checks of the `verify` workload, pure: a cart's history as its leader serves it
/// against what the workload was told, and each replica's copy against the leader's.
///
/// The guarantees checked (ARCHITECTURE.md): no acknowledged change is lost, none is applied
/// twice, a cart's events have seqs 1, 2, 3, … without gap or repeat, in the order the
/// changes were acknowledged (one writer per cart, one change at a time), and every replica
/// holds the same events.
public enum LedgerCheck {
    /// Checks `history` (the cart's events from seq 1, read through its leader) against
    /// `ledger`: a creation by the owner, then one `CartItemAdded` of quantity 1 per applied
    /// add, acknowledged ones all there and in the order acknowledged, unanswered ones at most
    /// once, nothing else.
    public static func check(_ ledger: LedgerCart, history: [CartEvent]) -> LedgerVerdict {
        var verdict = LedgerVerdict()
        func violation(_ what: String) { verdict.violations.append(LedgerViolation(cart: ledger.cart, what)) }

        for (offset, event) in history.enumerated() where event.seq != Seq(UInt64(offset + 1)) {
            violation("event \(offset + 1) of the history has seq \(event.seq.rawValue): a gap or a repeat")
            return verdict
        }
        guard let first = history.first else {
            violation("no history: the acknowledged creation is lost")
            return verdict
        }
        guard case .created(let created) = first.change, created.owner == ledger.owner else {
            violation("seq 1 is \(first.change.name), not the owner's creation")
            return verdict
        }

        let acknowledged = ledger.adds.filter { $0.outcome == .acknowledged }.map(\.item)
        let positions = Dictionary(uniqueKeysWithValues: acknowledged.enumerated().map { ($1, $0) })
        let unanswered = Set(ledger.adds.filter { $0.outcome == .unanswered }.map(\.item))
        var latestPosition = -1  // of the acknowledged adds applied so far, the latest made
        var seen: Set<ItemID> = []
        for event in history.dropFirst() {
            guard case .itemAdded(let added) = event.change else {
                violation("seq \(event.seq.rawValue) is \(event.change.name); the workload only adds items")
                continue
            }
            let item = added.line.item
            if added.quantityAdded != 1 || added.line.quantity != 1 {
                violation("seq \(event.seq.rawValue) adds \(added.quantityAdded) of \(item) making \(added.line.quantity); "
                    + "each item was added once, with quantity 1")
            }
            guard seen.insert(item).inserted else {
                violation("the add of \(item) is applied twice (again at seq \(event.seq.rawValue))")
                continue
            }
            if let position = positions[item] {
                if position < latestPosition {
                    violation("the add of \(item) is at seq \(event.seq.rawValue), behind \(acknowledged[latestPosition]), "
                        + "whose add was acknowledged after it")
                }
                latestPosition = max(latestPosition, position)
            } else if unanswered.contains(item) {
                verdict.unansweredApplied += 1
            } else {
                violation("seq \(event.seq.rawValue) adds \(item), which the workload never asked for")
            }
        }
        for item in acknowledged where !seen.contains(item) {
            violation("the acknowledged add of \(item) is lost")
        }
        verdict.unansweredAbsent = unanswered.subtracting(seen).count
        return verdict
    }

    /// Compares a replica's copy of a cart's events with the leader's: nil when they are the
    /// same events, with the same seqs, versions, times and contents.
    public static func compare(replica: String, events: [CartEvent], leader: [CartEvent], cart: CartID) -> LedgerViolation? {
        if let index = (0..<min(events.count, leader.count)).first(where: { events[$0] != leader[$0] }) {
            return LedgerViolation(cart: cart, "\(replica) has a different event at seq \(leader[index].seq.rawValue): "
                + "\(brief(events[index])) against the leader's \(brief(leader[index]))")
        }
        guard events.count == leader.count else {
            return LedgerViolation(cart: cart, "\(replica) has \(events.count) events, the leader \(leader.count)")
        }
        return nil
    }

    /// `CartItemAdded sku-3 v4`: the change, its item for an add, and the version.
    static func brief(_ event: CartEvent) -> String {
        if case .itemAdded(let added) = event.change { return "\(event.change.name) \(added.line.item) v\(event.version.rawValue)" }
        return "\(event.change.name) v\(event.version.rawValue)"
    }
}
