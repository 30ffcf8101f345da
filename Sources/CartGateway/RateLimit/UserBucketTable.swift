import CartTypes

/// Per-user token buckets in least-recently-used order, with at most `capacity` entries.
///
/// Entries live in an array and link to their neighbours by index, so touching a user, adding
/// one and evicting the oldest are all O(1) with no allocation once the table has grown.
struct UserBucketTable {
    private struct Entry {
        var user: UserID
        var bucket: TokenBucket
        var lastUsed: MonotonicInstant
        var newer: Int
        var older: Int
    }

    private static let none = -1

    let capacity: Int
    private var entries: [Entry] = []
    private var slots: [UserID: Int] = [:]
    private var freeSlots: [Int] = []
    private var newest = none
    private var oldest = none

    init(capacity: Int) {
        precondition(capacity > 0, "capacity checked by the configuration")
        self.capacity = capacity
    }

    var count: Int { slots.count }

    /// Runs `body` on `user`'s bucket, creating a full one if the user has none. Returns
    /// whether creating it pushed out the least recently used user, plus `body`'s result.
    mutating func withBucket<Result>(
        for user: UserID,
        now: MonotonicInstant,
        newBucket: () -> TokenBucket,
        _ body: (inout TokenBucket) -> Result
    ) -> (evictedForSpace: Bool, result: Result) {
        var evicted = false
        let slot: Int
        if let existing = slots[user] {
            slot = existing
            unlink(slot)
        } else {
            if slots.count == capacity {
                remove(oldest)
                evicted = true
            }
            slot = insert(Entry(user: user, bucket: newBucket(), lastUsed: now, newer: Self.none, older: Self.none))
        }
        entries[slot].lastUsed = max(entries[slot].lastUsed, now)
        linkAsNewest(slot)
        return (evicted, body(&entries[slot].bucket))
    }

    /// Removes up to `limit` of the least recently used users whose buckets have been
    /// untouched for `idleNs` and are full again (forgetting a full bucket changes nothing:
    /// the user would get a full one back). Returns how many were removed.
    mutating func evictIdle(now: MonotonicInstant, idleNs: UInt64, limit: Int) -> Int {
        var removed = 0
        while removed < limit, oldest != Self.none {
            let slot = oldest
            guard now.nanoseconds(since: entries[slot].lastUsed) >= idleNs else { break }
            entries[slot].bucket.refill(now: now)
            guard entries[slot].bucket.isFull else { break }
            remove(slot)
            removed += 1
        }
        return removed
    }

    func contains(_ user: UserID) -> Bool { slots[user] != nil }

    private mutating func insert(_ entry: Entry) -> Int {
        if let slot = freeSlots.popLast() {
            entries[slot] = entry
            slots[entry.user] = slot
            return slot
        }
        entries.append(entry)
        slots[entry.user] = entries.count - 1
        return entries.count - 1
    }

    private mutating func remove(_ slot: Int) {
        precondition(slot != Self.none, "remove from an empty table")
        unlink(slot)
        slots[entries[slot].user] = nil
        freeSlots.append(slot)
    }

    private mutating func unlink(_ slot: Int) {
        let (newer, older) = (entries[slot].newer, entries[slot].older)
        if newer != Self.none { entries[newer].older = older } else { newest = older }
        if older != Self.none { entries[older].newer = newer } else { oldest = newer }
        entries[slot].newer = Self.none
        entries[slot].older = Self.none
    }

    private mutating func linkAsNewest(_ slot: Int) {
        entries[slot].older = newest
        entries[slot].newer = Self.none
        if newest != Self.none { entries[newest].newer = slot }
        newest = slot
        if oldest == Self.none { oldest = slot }
    }
}
