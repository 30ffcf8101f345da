import CartTypes

/// Where each entry of a partition log lives, by log index, so that reading an entry or its
/// term is an array lookup and never a scan. Holds exactly the entries
/// `firstIndex ..< firstIndex + count`.
struct LogIndexTable {
    struct Slot: Hashable {
        var segment: UInt64
        var offset: Int
        var recordBytes: Int
        var term: Term
    }

    private(set) var firstIndex: LogIndex
    private var slots: [Slot] = []
    /// Slots before this position were compacted away; dropped lazily to keep compaction O(1) amortized.
    private var start = 0

    init(firstIndex: LogIndex) {
        self.firstIndex = firstIndex
    }

    var count: Int { slots.count - start }
    var isEmpty: Bool { count == 0 }
    /// `firstIndex - 1` when empty.
    var lastIndex: LogIndex { LogIndex(firstIndex.rawValue + UInt64(count)).previous }

    func slot(at index: LogIndex) -> Slot? {
        guard index >= firstIndex, index <= lastIndex else { return nil }
        return slots[start + Int(index.rawValue - firstIndex.rawValue)]
    }

    mutating func append(_ slot: Slot) {
        slots.append(slot)
    }

    /// Forgets every entry after `index`.
    mutating func removeSuffix(after index: LogIndex) {
        guard index < lastIndex else { return }
        let keep = index < firstIndex ? 0 : Int(index.rawValue - firstIndex.rawValue) + 1
        slots.removeSubrange((start + keep)...)
    }

    /// Forgets every entry up to and including `index`; the table then starts at `index + 1`.
    mutating func removePrefix(through index: LogIndex) {
        guard index >= firstIndex else { return }
        if index >= lastIndex {
            slots.removeAll()
            start = 0
        } else {
            start += Int(index.rawValue - firstIndex.rawValue) + 1
            if start > slots.count / 2 {
                slots.removeFirst(start)
                start = 0
            }
        }
        firstIndex = index.next
    }

    /// The lowest segment sequence still referenced, if any entry is left.
    var firstSegment: UInt64? { isEmpty ? nil : slots[start].segment }
}
