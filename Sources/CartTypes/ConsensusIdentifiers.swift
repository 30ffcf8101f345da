/// A Raft term (§5.1). Terms only grow; `zero` is the term before any election.
public struct Term: Identifier, ExpressibleByIntegerLiteral {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt64) { self.rawValue = value }
    public static let zero = Term(0)
    public var next: Term { Term(rawValue + 1) }
    public var description: String { "t\(rawValue)" }
}

/// The position of an entry in a Raft log. The first entry has index 1; `zero` means "none".
public struct LogIndex: Identifier, ExpressibleByIntegerLiteral, Strideable {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt64) { self.rawValue = value }
    public static let zero = LogIndex(0)
    public var next: LogIndex { LogIndex(rawValue + 1) }
    public var previous: LogIndex {
        precondition(rawValue > 0, "LogIndex.zero has no previous index")
        return LogIndex(rawValue - 1)
    }
    public static func < (lhs: LogIndex, rhs: LogIndex) -> Bool { lhs.rawValue < rhs.rawValue }
    public func distance(to other: LogIndex) -> Int64 { Int64(bitPattern: other.rawValue &- rawValue) }
    public func advanced(by n: Int64) -> LogIndex { LogIndex(UInt64(bitPattern: Int64(bitPattern: rawValue) &+ n)) }
    public var description: String { "i\(rawValue)" }
}

/// A cluster member. Node ids are small positive integers assigned by configuration;
/// `zero` means "no node" (for example, no known leader).
public struct NodeID: Identifier, ExpressibleByIntegerLiteral {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt64) { self.rawValue = value }
    public static let none = NodeID(0)
    public var description: String { "n\(rawValue)" }
}

/// One partition of the cart key space, replicated by its own Raft group.
public struct PartitionID: Identifier, ExpressibleByIntegerLiteral {
    public let rawValue: UInt32
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt32) { self.rawValue = value }
    public var description: String { "p\(rawValue)" }
}
