import CartTypes

/// One record of the node journal (`NodeJournal`): an operation on one partition log, or a
/// checkpoint. All integers are little-endian.
///
/// | offset | bytes | field       | meaning                                              |
/// |-------:|------:|-------------|------------------------------------------------------|
/// |      0 |     4 | `bodyBytes` | length of the body that follows the header (never 0) |
/// |      4 |     4 | `crc32c`    | CRC-32C of bytes 0..<4 and of the body               |
/// |      8 |     n | body        | `kind` (1 byte), then the kind's fields               |
///
/// Bodies: append = partition u32, first index u64, count u32, then per entry term u64,
/// payload length u32, payload; truncate = partition u32, index u64 (keep entries up to it);
/// reset = partition u32, index u64, term u64; checkpoint = count u32, then per partition
/// partition u32, index u64.
///
/// Records follow each other without padding; the first zero, short or failing record ends
/// a file (a torn tail: the write was never acknowledged).
enum JournalRecord: Hashable, Sendable {
    /// Entries appended to a partition log (contiguous, starting at `entries[0].index`).
    case append(PartitionID, [StoredEntry])
    /// `truncateSuffix(after: index)`.
    case truncate(PartitionID, after: LogIndex)
    /// `resetForSnapshot(index:term:)`.
    case reset(PartitionID, index: LogIndex, term: Term)
    /// Every listed partition's file held its entries up to the index durably when this
    /// record was written; journal files before the one holding it are no longer needed.
    case checkpoint([PartitionID: LogIndex])

    static let headerBytes = 8

    private enum Kind: UInt8 {
        case append = 1, truncate = 2, reset = 3, checkpoint = 4
    }

    /// The partition an operation record belongs to (nil for a checkpoint).
    var partition: PartitionID? {
        switch self {
        case let .append(partition, _), let .truncate(partition, _), let .reset(partition, _, _): partition
        case .checkpoint: nil
        }
    }

    /// The size of the encoded record (header and body).
    var encodedBytes: Int {
        switch self {
        case let .append(_, entries): Self.headerBytes + 1 + 4 + 8 + 4 + entries.reduce(0) { $0 + 8 + 4 + $1.payload.count }
        case .truncate: Self.headerBytes + 1 + 4 + 8
        case .reset: Self.headerBytes + 1 + 4 + 8 + 8
        case let .checkpoint(indices): Self.headerBytes + 1 + 4 + indices.count * (4 + 8)
        }
    }

    /// Appends the encoded record (header and body) to `buffer`.
    func encode(into buffer: inout [UInt8]) {
        let start = buffer.count
        Self.put(UInt32(0), &buffer)
        Self.put(UInt32(0), &buffer)
        switch self {
        case let .append(partition, entries):
            precondition(!entries.isEmpty, "an append record holds at least one entry")
            buffer.append(Kind.append.rawValue)
            Self.put(partition.rawValue, &buffer)
            Self.put(entries[0].index.rawValue, &buffer)
            Self.put(UInt32(entries.count), &buffer)
            for entry in entries {
                Self.put(entry.term.rawValue, &buffer)
                Self.put(UInt32(entry.payload.count), &buffer)
                buffer.append(contentsOf: entry.payload)
            }
        case let .truncate(partition, index):
            buffer.append(Kind.truncate.rawValue)
            Self.put(partition.rawValue, &buffer)
            Self.put(index.rawValue, &buffer)
        case let .reset(partition, index, term):
            buffer.append(Kind.reset.rawValue)
            Self.put(partition.rawValue, &buffer)
            Self.put(index.rawValue, &buffer)
            Self.put(term.rawValue, &buffer)
        case let .checkpoint(indices):
            buffer.append(Kind.checkpoint.rawValue)
            Self.put(UInt32(indices.count), &buffer)
            for (partition, index) in indices.sorted(by: { $0.key < $1.key }) {
                Self.put(partition.rawValue, &buffer)
                Self.put(index.rawValue, &buffer)
            }
        }
        let bodyBytes = buffer.count - start - Self.headerBytes
        Self.set(UInt32(bodyBytes), at: start, in: &buffer)
        let checksum = buffer.withUnsafeBytes { Self.checksum(UnsafeRawBufferPointer(rebasing: $0[start...])) }
        Self.set(checksum, at: start + 4, in: &buffer)
        assert(buffer.count - start == encodedBytes, "encodedBytes disagrees with encode(into:)")
    }

    /// Decodes the record at `offset` of `bytes`; nil (with nothing consumed) for zeros, a
    /// short or torn record, a checksum mismatch or a body that does not parse.
    static func decode(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> (record: JournalRecord, recordBytes: Int)? {
        guard bytes.count - offset >= headerBytes else { return nil }
        let bodyBytes = Int(load(UInt32.self, bytes, offset))
        guard bodyBytes > 0, bytes.count - offset - headerBytes >= bodyBytes else { return nil }
        let record = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + headerBytes + bodyBytes)])
        guard checksum(record) == load(UInt32.self, record, 4) else { return nil }
        var reader = Reader(bytes: UnsafeRawBufferPointer(rebasing: record[headerBytes...]))
        guard let decoded = decodeBody(&reader), reader.offset == bodyBytes else { return nil }
        return (decoded, headerBytes + bodyBytes)
    }

    private static func decodeBody(_ reader: inout Reader) -> JournalRecord? {
        guard let kindByte = reader.read(UInt8.self), let kind = Kind(rawValue: kindByte) else { return nil }
        switch kind {
        case .append:
            guard let partition = reader.read(UInt32.self), let first = reader.read(UInt64.self),
                  let count = reader.read(UInt32.self), count > 0, first > 0 else { return nil }
            var entries: [StoredEntry] = []
            for position in 0..<UInt64(count) {
                guard let term = reader.read(UInt64.self), let length = reader.read(UInt32.self),
                      let payload = reader.bytes(Int(length)) else { return nil }
                entries.append(StoredEntry(index: LogIndex(first + position), term: Term(term), payload: payload))
            }
            return .append(PartitionID(partition), entries)
        case .truncate:
            guard let partition = reader.read(UInt32.self), let index = reader.read(UInt64.self) else { return nil }
            return .truncate(PartitionID(partition), after: LogIndex(index))
        case .reset:
            guard let partition = reader.read(UInt32.self), let index = reader.read(UInt64.self),
                  let term = reader.read(UInt64.self) else { return nil }
            return .reset(PartitionID(partition), index: LogIndex(index), term: Term(term))
        case .checkpoint:
            guard let count = reader.read(UInt32.self) else { return nil }
            var indices: [PartitionID: LogIndex] = [:]
            for _ in 0..<count {
                guard let partition = reader.read(UInt32.self), let index = reader.read(UInt64.self) else { return nil }
                indices[PartitionID(partition)] = LogIndex(index)
            }
            return .checkpoint(indices)
        }
    }

    /// CRC-32C of the length field and the body (the checksum field itself is skipped).
    private static func checksum(_ record: UnsafeRawBufferPointer) -> UInt32 {
        let length = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: record[0..<4]))
        return CRC32C.update(length, UnsafeRawBufferPointer(rebasing: record[headerBytes...]))
    }

    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        mutating func read<T: FixedWidthInteger>(_ type: T.Type) -> T? {
            guard bytes.count - offset >= MemoryLayout<T>.size else { return nil }
            defer { offset += MemoryLayout<T>.size }
            return JournalRecord.load(T.self, bytes, offset)
        }

        mutating func bytes(_ count: Int) -> [UInt8]? {
            guard bytes.count - offset >= count else { return nil }
            defer { offset += count }
            return Array(bytes[offset..<(offset + count)])
        }
    }

    private static func load<T: FixedWidthInteger>(_ type: T.Type, _ bytes: UnsafeRawBufferPointer, _ offset: Int) -> T {
        T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    private static func put<T: FixedWidthInteger>(_ value: T, _ buffer: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }

    private static func set(_ value: UInt32, at offset: Int, in buffer: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { raw in
            for position in 0..<4 { buffer[offset + position] = raw[position] }
        }
    }
}
