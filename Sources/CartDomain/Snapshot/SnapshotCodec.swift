/// Turns a snapshot into bytes and back. The node stores and ships these bytes; the codec
/// must be deterministic (equal snapshots → equal bytes).
public protocol SnapshotCodec: Sendable {
    func encode(_ snapshot: PartitionSnapshot) throws(SnapshotError) -> [UInt8]
    func decode(_ bytes: [UInt8]) throws(SnapshotError) -> PartitionSnapshot
}

extension PartitionState {
    public func encodedSnapshot(using codec: some SnapshotCodec) throws(SnapshotError) -> [UInt8] {
        try codec.encode(snapshot())
    }

    public init(snapshotBytes bytes: [UInt8], using codec: some SnapshotCodec) throws(SnapshotError) {
        try self.init(restoring: codec.decode(bytes))
    }
}
