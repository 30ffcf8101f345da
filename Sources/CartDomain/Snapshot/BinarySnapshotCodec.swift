import CartWire

/// The snapshot codec the node uses: the wire's binary Codable encoding (deterministic, so
/// equal states give equal bytes), with decode limits sized for a whole partition rather
/// than for one RPC message. The snapshot is written and read by its hand-written wire fields
/// (`PartitionSnapshot+Wire.swift`), which give exactly the Codable encoding's bytes and
/// answers several times faster; the limits bound that path's work and allocation the same way.
public struct BinarySnapshotCodec: SnapshotCodec {
    /// A partition snapshot is far larger than any frame: up to `snapshotBytesMax` bytes and
    /// `snapshotElementsMax` fields and elements (a cart with its history is a few hundred).
    public static let snapshotBytesMax = 1 << 30
    public static let snapshotElementsMax = 1 << 28
    public static let snapshotDepthMax = 32

    public let limits: WireLimits

    public init(limits: WireLimits = WireLimits(depthMax: Self.snapshotDepthMax,
                                                elementsMax: Self.snapshotElementsMax,
                                                bytesMax: Self.snapshotBytesMax)) {
        self.limits = limits
    }

    public func encode(_ snapshot: PartitionSnapshot) throws(SnapshotError) -> [UInt8] {
        // `PartitionSnapshot` is a `WireMessage`: these calls take the hand-written fast path.
        do { return try BinaryEncoder().encode(snapshot) } catch {
            throw SnapshotError(.unencodable, "\(error)")
        }
    }

    public func decode(_ bytes: [UInt8]) throws(SnapshotError) -> PartitionSnapshot {
        do { return try BinaryDecoder(limits: limits).decode(PartitionSnapshot.self, from: bytes) } catch {
            throw SnapshotError(.undecodable, "\(error)")
        }
    }
}
