import CartDomain
import CartWire

/// Encodes partition snapshots with the wire's binary encoding (deterministic: fields by
/// number, collections in the snapshot's defined order).
struct WireSnapshotCodec: SnapshotCodec {
    /// Snapshots are bounded by the storage's `snapshotBytesMax`, far beyond a request's limits.
    static let limits = WireLimits(depthMax: 64, elementsMax: 1 << 28, bytesMax: 1 << 30)

    func encode(_ snapshot: PartitionSnapshot) throws(SnapshotError) -> [UInt8] {
        do {
            return try BinaryEncoder().encode(snapshot)
        } catch {
            throw SnapshotError(.unencodable, "\(error)")
        }
    }

    func decode(_ bytes: [UInt8]) throws(SnapshotError) -> PartitionSnapshot {
        do {
            return try BinaryDecoder(limits: Self.limits).decode(PartitionSnapshot.self, from: bytes)
        } catch {
            throw SnapshotError(.undecodable, "\(error)")
        }
    }
}
