import CartTypes

/// Where the log starts after prefix compaction: the last compacted index and its term
/// (Raft needs that term to check the entry before `firstIndex`, §5.3 and §7).
struct CompactionBoundary: Hashable {
    var index: LogIndex
    var term: Term

    static let none = CompactionBoundary(index: .zero, term: .zero)

    func encoded() -> [UInt8] {
        var bytes = [UInt8]()
        appendLittleEndian(index.rawValue, to: &bytes)
        appendLittleEndian(term.rawValue, to: &bytes)
        return bytes
    }

    init(index: LogIndex, term: Term) {
        self.index = index
        self.term = term
    }

    init(decoding bytes: [UInt8], path: String) throws {
        guard bytes.count == 16 else { throw StorageError.corruptMetadata(file: path, reason: "boundary of \(bytes.count) bytes") }
        self.init(index: LogIndex(readLittleEndian(UInt64.self, bytes, 0)), term: Term(readLittleEndian(UInt64.self, bytes, 8)))
    }
}
