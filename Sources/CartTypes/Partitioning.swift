/// Maps carts to partitions with a hash that is stable across processes, builds and
/// platforms (FNV-1a 64 over the id's UTF-8 bytes; Swift's `Hasher` is seeded per process
/// and must never be used for placement).
public struct PartitionMap: Sendable, Hashable {
    public static let partitionCountMax: UInt32 = 4096

    public let partitionCount: UInt32

    public init(partitionCount: UInt32) {
        precondition(partitionCount > 0 && partitionCount <= Self.partitionCountMax,
                     "partitionCount must be in 1...\(Self.partitionCountMax)")
        self.partitionCount = partitionCount
    }

    public func partition(of cart: CartID) -> PartitionID {
        PartitionID(UInt32(StableHash.fnv1a64(cart.rawValue) % UInt64(partitionCount)))
    }

    public func partition(of item: ItemID) -> PartitionID {
        PartitionID(UInt32(StableHash.fnv1a64("item/" + item.rawValue) % UInt64(partitionCount)))
    }

    public func partition(of user: UserID) -> PartitionID {
        PartitionID(UInt32(StableHash.fnv1a64("user/" + user.rawValue) % UInt64(partitionCount)))
    }
}

public enum StableHash {
    /// FNV-1a, 64-bit. Deterministic everywhere; good enough spread for partition placement.
    public static func fnv1a64(_ string: String) -> UInt64 {
        var hash = FNV1a64()
        for byte in string.utf8 { hash.add(byte) }
        return hash.value
    }
}

/// FNV-1a, 64-bit, fed a byte at a time (`StableHash`, request fingerprints).
public struct FNV1a64: Sendable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    @inline(__always)
    public mutating func add(_ byte: UInt8) {
        value ^= UInt64(byte)
        value &*= 0x0000_0100_0000_01b3
    }
}
