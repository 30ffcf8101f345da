/// Keys in the order they were inserted, with O(1) append and removal of the oldest. Used
/// where the replicated state must forget the oldest entry first, the same way on every
/// replica (Dictionary iteration order is not stable and must never decide what is evicted).
struct InsertionOrder<Key: Hashable & Sendable>: Sendable {
    private var storage: [Key] = []
    private var head = 0

    init() {}

    init(_ keys: [Key]) { storage = keys }

    var count: Int { storage.count - head }

    var keys: ArraySlice<Key> { storage[head...] }

    var oldest: Key? { head < storage.count ? storage[head] : nil }

    mutating func append(_ key: Key) { storage.append(key) }

    mutating func removeOldest() -> Key? {
        guard head < storage.count else { return nil }
        let key = storage[head]
        head += 1
        // Compact once the dead prefix dominates, so memory stays proportional to `count`.
        if head >= 64 && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return key
    }
}

extension InsertionOrder: Equatable {
    static func == (lhs: Self, rhs: Self) -> Bool { lhs.keys.elementsEqual(rhs.keys) }
}

extension InsertionOrder: Hashable {
    func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for key in keys { hasher.combine(key) }
    }
}
