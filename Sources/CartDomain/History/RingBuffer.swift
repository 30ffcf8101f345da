/// A first-in-first-out buffer that keeps at most a given number of elements: appending to a
/// full buffer overwrites the oldest element in place, so a long-running cart's history costs
/// neither a shift of its retained events nor an allocation per event.
///
/// Positions count from the oldest element (0) to the newest (`count - 1`), whichever slot of
/// the storage holds them; equality, hashing and encoding see only that order.
struct RingBuffer<Element> {
    /// The elements oldest first are `storage[oldestSlot...]` followed by `storage[..<oldestSlot]`.
    /// `oldestSlot` is 0 until the buffer is full and wraps.
    private var storage: [Element]
    private var oldestSlot = 0

    init() { storage = [] }

    /// A buffer holding `elements`, oldest first.
    init(_ elements: [Element]) { storage = elements }

    /// Appends `element`, forgetting the oldest elements so that at most `countMax` remain.
    mutating func append(_ element: Element, keepingAtMost countMax: Int) {
        precondition(countMax > 0, "a ring keeps at least one element")
        if storage.count == countMax {
            storage[oldestSlot] = element
            oldestSlot += 1
            if oldestSlot == countMax { oldestSlot = 0 }
        } else {
            // Still filling (`oldestSlot` is 0), or `countMax` changed since the last append:
            // lay the elements out oldest first, then append and trim as an array would.
            unwrap()
            storage.append(element)
            if storage.count > countMax { storage.removeFirst(storage.count - countMax) }
        }
    }

    private mutating func unwrap() {
        guard oldestSlot != 0 else { return }
        storage = Array(self)
        oldestSlot = 0
    }
}

extension RingBuffer: RandomAccessCollection {
    var startIndex: Int { 0 }
    var endIndex: Int { storage.count }

    subscript(position: Int) -> Element {
        // Yielded in place, so reading one field of an element (an event's seq) does not
        // copy the whole element and retain everything it holds.
        _read {
            precondition(position >= 0 && position < storage.count, "ring position out of range")
            let slot = oldestSlot + position
            yield storage[slot < storage.count ? slot : slot - storage.count]
        }
    }
}

extension RingBuffer: Equatable where Element: Equatable {
    static func == (lhs: Self, rhs: Self) -> Bool { lhs.elementsEqual(rhs) }
}

extension RingBuffer: Hashable where Element: Hashable {
    func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for element in self { hasher.combine(element) }
    }
}

extension RingBuffer: Sendable where Element: Sendable {}

/// Encoded exactly as an array of the elements, oldest first.
extension RingBuffer: Codable where Element: Codable {
    init(from decoder: any Decoder) throws {
        self.init(try [Element](from: decoder))
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        for element in self { try container.encode(element) }
    }
}
