import CartTypes

/// What `verify` found: how much it wrote and read back, and every broken promise.
public struct VerifyFigures: Sendable {
    /// Carts written (created, with their adds recorded).
    public let carts: Int
    public var violations: [LedgerViolation]
    /// Creations that got no answer: those carts are not checked.
    public let createsUnanswered: Int
    public var addsAcknowledged = 0
    public var addsUnanswered = 0
    /// Unanswered adds that the history shows applied (the rest were not).
    public var unansweredApplied = 0
    /// Carts whose history could not be read through the leader.
    public var cartsUnread: [CartID] = []
    /// The nodes whose copies were read, and the cart copies compared with the leader's (each
    /// node's copy twice: by a watch from seq 1 and by a local read).
    public var nodes: [String] = []
    public var copiesCompared = 0
    /// Why some copies were not compared (a node that did not answer in time).
    public var replicaProblems: [String] = []
    /// The checkout part: scarce items (and those whose units could not be counted, after an
    /// unanswered restock), checkouts by outcome, adds refused for short stock, and the units
    /// in checked-out carts.
    public var scarceItems = 0
    public var itemsUncounted = 0
    public var checkouts: [CheckoutCart.Outcome: Int] = [:]
    public var addsOutOfStock = 0
    public var unitsSold: Int64 = 0
    /// Checkout carts that could not be read back.
    public var checkoutCartsUnread: [CartID] = []

    init(carts: Int, violations: [LedgerViolation], createsUnanswered: Int) {
        self.carts = carts
        self.violations = violations
        self.createsUnanswered = createsUnanswered
    }

    /// Every cart read back, every copy compared, and no violation.
    public var passed: Bool {
        violations.isEmpty && cartsUnread.isEmpty && checkoutCartsUnread.isEmpty && replicaProblems.isEmpty && carts > 0
    }

    /// Violations listed in the summary (all are counted).
    static let violationsListedMax = 20

    var json: String {
        "{\"carts\":\(carts),\"adds_acknowledged\":\(addsAcknowledged),\"adds_unanswered\":\(addsUnanswered),"
            + "\"unanswered_applied\":\(unansweredApplied),\"creates_unanswered\":\(createsUnanswered),"
            + "\"carts_unread\":\(cartsUnread.count),\"nodes\":\(nodes.count),\"copies_compared\":\(copiesCompared),"
            + "\"replica_problems\":\(replicaProblems.count),\"checkouts_completed\":\(checkouts[.completed] ?? 0),"
            + "\"checkouts_refused\":\(checkouts[.refused] ?? 0),\"checkouts_unanswered\":\(checkouts[.unanswered] ?? 0),"
            + "\"adds_out_of_stock\":\(addsOutOfStock),\"units_sold\":\(unitsSold),\"items_uncounted\":\(itemsUncounted),"
            + "\"violations\":\(violations.count),\"passed\":\(passed)}"
    }

    var summary: String {
        var lines = [
            "verify     \(carts) carts, \(addsAcknowledged) adds acknowledged, \(addsUnanswered) unanswered "
                + "(\(unansweredApplied) of them applied), \(createsUnanswered) creations unanswered (not checked)",
            "read back  \(carts - cartsUnread.count)/\(carts) histories through the leaders; \(copiesCompared) copies on "
                + "\(nodes.isEmpty ? "no node" : nodes.joined(separator: ", ")) (watched and read locally) compared with the leader's",
            "stock      \(checkouts[.completed] ?? 0) checkouts completed, \(checkouts[.refused] ?? 0) refused for short stock, "
                + "\(checkouts[.unanswered] ?? 0) unanswered; \(addsOutOfStock) adds refused for short stock; \(unitsSold) units of "
                + "\(scarceItems) scarce items sold\(itemsUncounted > 0 ? " (\(itemsUncounted) items not counted: a restock went unanswered)" : "")",
            "verdict    \(passed ? "every acknowledged add once, in order, the same on every replica; every unit sold once" : "FAILED"): "
                + "\(violations.count) violations",
        ]
        lines += violations.prefix(Self.violationsListedMax).map { "  \($0)" }
        if violations.count > Self.violationsListedMax { lines.append("  … and \(violations.count - Self.violationsListedMax) more") }
        if !cartsUnread.isEmpty {
            lines.append("  \(cartsUnread.count) carts could not be read back, e.g. \(cartsUnread.prefix(3).map(\.rawValue).joined(separator: ", "))")
        }
        if !checkoutCartsUnread.isEmpty {
            lines.append("  \(checkoutCartsUnread.count) checkout carts could not be read back, e.g. "
                         + checkoutCartsUnread.prefix(3).map(\.rawValue).joined(separator: ", "))
        }
        lines += replicaProblems.map { "  \($0)" }
        return lines.joined(separator: "\n")
    }
}
