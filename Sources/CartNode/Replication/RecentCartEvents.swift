import CartDomain
import CartTypes
import NIOCore

/// The cart events a replica applied in the last `windowNanos` (at most `eventsMax` of them),
/// so that a watch can resume from further back than the cart's retained history (the
/// domain keeps each cart's last 64 events, `DomainLimits.historyEventsPerCartMax`): a
/// watcher whose node hung or crashed, or who fell behind a busy cart, continues from where
/// it stopped if that was within the window, whatever the cart's rate.
///
/// Local to this replica, like a cache: not replicated, not in snapshots, measured on this
/// node's monotonic clock from when it applied each event. A replica that restarted or
/// installed a snapshot holds only what it applied since; a resume from before that fails
/// as it did without the window (`historyTruncated`).
///
/// Every apply records here, and a resume from this far back is rare, so recording is one
/// ring append (and the removal of what expired), with no index by cart; a read scans the
/// ring for the cart's events (50,000 events: well under a millisecond).
struct RecentCartEvents {
    let windowNanos: UInt64
    let eventsMax: Int
    /// Every event applied within the window, in apply order, with when it was applied.
    private var ring = CircularBuffer<(event: CartEvent, appliedAt: UInt64)>()

    init(windowMs: Int64, eventsMax: Int) {
        windowNanos = UInt64(max(0, windowMs)) * 1_000_000
        self.eventsMax = max(0, eventsMax)
    }

    var isEnabled: Bool { windowNanos > 0 && eventsMax > 0 }
    var count: Int { ring.count }

    /// Remembers `event`, applied at `now`, and forgets what the window and the cap no longer
    /// cover.
    mutating func record(_ event: CartEvent, at now: UInt64) {
        guard isEnabled else { return }
        ring.append((event, now))
        while let oldest = ring.first, oldest.appliedAt + windowNanos < now || ring.count > eventsMax {
            ring.removeFirst()
        }
    }

    /// The cart's events from `from` on, if `from` is here (or is the one after the newest
    /// here); nil when it is older than what is kept, or the cart has nothing here. Events
    /// before `from` are passed over.
    func events(of cart: CartID, from: Seq) -> [CartEvent]? {
        var found: [CartEvent] = []
        var next = from
        var newest: Seq?
        for (event, _) in ring where event.cart == cart {
            newest = max(newest ?? event.seq, event.seq)
            if event.seq == next {
                found.append(event)
                next = next.next
            } else if event.seq > next {
                return nil  // `from` is older than what is kept
            }
        }
        if found.isEmpty { return newest?.next == from ? [] : nil }
        return found
    }

    /// Forgets everything (the replica's state was replaced by a snapshot).
    mutating func removeAll() {
        ring.removeAll()
    }
}
