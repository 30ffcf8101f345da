import CartTypes

/// Where the log starts after prefix compaction or a snapshot reset: the last compacted
/// index and its term (Raft needs that term to check the entry before `firstIndex`, §5.3
/// and §7), and the first segment that may still hold entries of the log.
///
/// Segments numbered below `firstSegment` are dead the moment the boundary is durable, so a
/// compaction or reset interrupted while deleting them (by a crash or a failed `unlink`)
/// leaves nothing recovery could mistake for the log: it deletes them, whatever subset of
/// them is left, instead of reading entries a reset replaced or finding a gap between them.
struct CompactionBoundary: Hashable {
    var index: LogIndex
    var term: Term
    /// 0 in boundaries written before this field existed (16 bytes on disk): every segment counts.
    var firstSegment: UInt64

    static let none = CompactionBoundary(index: .zero, term: .zero, firstSegment: 0)

    func encoded() -> [UInt8] {
        var bytes = [UInt8]()
        appendLittleEndian(index.rawValue, to: &bytes)
        appendLittleEndian(term.rawValue, to: &bytes)
        appendLittleEndian(firstSegment, to: &bytes)
        return bytes
    }

    init(index: LogIndex, term: Term, firstSegment: UInt64) {
        self.index = index
        self.term = term
        self.firstSegment = firstSegment
    }

    init(decoding bytes: [UInt8], path: String) throws {
        guard bytes.count == 16 || bytes.count == 24 else {
            throw StorageError.corruptMetadata(file: path, reason: "boundary of \(bytes.count) bytes")
        }
        self.init(index: LogIndex(readLittleEndian(UInt64.self, bytes, 0)), term: Term(readLittleEndian(UInt64.self, bytes, 8)),
                  firstSegment: bytes.count == 24 ? readLittleEndian(UInt64.self, bytes, 16) : 0)
    }
}
