import CartRaft
import CartTypes

/// A network that loses, duplicates, delays and reorders messages, and can be partitioned
/// (symmetrically or one way). All choices come from the run's seeded generator.
struct SimNetwork {
    struct Link: Hashable {
        let from: NodeID
        let to: NodeID
    }

    private struct InFlight {
        let deliverAtTick: Int
        let sequence: Int
        let message: Message
    }

    /// Bound on queued messages: beyond it new messages are dropped, as a real transport
    /// with bounded buffers would.
    static let inFlightMessagesMax = 10_000

    var dropProbability = 0.0
    var duplicateProbability = 0.0
    var deliveryDelayTicksMax = 0
    private(set) var blockedLinks: Set<Link> = []
    private var queue: [InFlight] = []
    private var sequence = 0

    var isPartitioned: Bool { !blockedLinks.isEmpty }

    /// Queues `message`; returns false if it was lost at once.
    mutating func send(_ message: Message, now: Int, random: inout SplitMix64) -> Bool {
        guard !random.chance(dropProbability) else { return false }
        enqueue(message, now: now, random: &random)
        if random.chance(duplicateProbability) { enqueue(message, now: now, random: &random) }
        return true
    }

    private mutating func enqueue(_ message: Message, now: Int, random: inout SplitMix64) {
        guard queue.count < Self.inFlightMessagesMax else { return }
        let delay = deliveryDelayTicksMax == 0 ? 0 : Int(random.next() % UInt64(deliveryDelayTicksMax + 1))
        sequence += 1
        queue.append(InFlight(deliverAtTick: now + delay, sequence: sequence, message: message))
    }

    /// Removes and returns the messages due by `now` that a partition does not block, in a
    /// random order, and the ones it blocked (they are lost).
    mutating func takeDue(now: Int, random: inout SplitMix64) -> (due: [Message], lost: [Message]) {
        var due: [Message] = []
        var lost: [Message] = []
        var waiting: [InFlight] = []
        for item in queue {
            if item.deliverAtTick > now {
                waiting.append(item)
            } else if blockedLinks.contains(Link(from: item.message.from, to: item.message.to)) {
                lost.append(item.message)
            } else {
                due.append(item.message)
            }
        }
        queue = waiting
        due.shuffle(using: &random)
        return (due, lost)
    }

    mutating func block(from: NodeID, to: NodeID) {
        blockedLinks.insert(Link(from: from, to: to))
    }

    /// Splits `nodes` into two sides that cannot reach each other.
    mutating func partition(_ side: [NodeID], from rest: [NodeID]) {
        for a in side {
            for b in rest {
                block(from: a, to: b)
                block(from: b, to: a)
            }
        }
    }

    mutating func heal() {
        blockedLinks.removeAll()
    }

    mutating func stopFaults() {
        dropProbability = 0
        duplicateProbability = 0
        heal()
    }
}

extension SplitMix64 {
    /// True with the given probability.
    mutating func chance(_ probability: Double) -> Bool {
        probability > 0 && Double(next() >> 11) / Double(1 << 53) < probability
    }

    mutating func pick<T>(_ items: [T]) -> T? {
        items.isEmpty ? nil : items[Int(next() % UInt64(items.count))]
    }
}
