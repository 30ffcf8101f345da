import CartTypes
import Logging

/// What `NodeJournal.open` reads back from the journal files after a restart: for each
/// partition, the operations to replay on its log and the floor below which its partition
/// file is known durable.
struct JournalRecovery {
    /// The journal operations of one partition, oldest first.
    struct PartitionOps: Sendable {
        /// Every entry up to this index was durable in the partition file (0: nothing known):
        /// the checkpoint's index, lowered by every later truncation or reset (which synced
        /// a shorter file; what was appended after them is durable only in the journal).
        var durableFloor: LogIndex
        var ops: [JournalRecord]
    }

    /// Sequence numbers of the journal files found, oldest first.
    var sequences: [UInt64] = []
    /// The newest checkpoint's indices (empty when no file holds a checkpoint).
    var checkpoint: [PartitionID: LogIndex] = [:]
    var partitions: [PartitionID: PartitionOps] = [:]

    /// Scans every journal file in `directory`. Files before the one holding the newest
    /// checkpoint record are covered by it; from that file on, every operation is kept.
    static func scan(directory: String, logger: Logger) throws -> JournalRecovery {
        var recovery = JournalRecovery()
        recovery.sequences = try PosixFile.listDirectory(directory).compactMap(JournalFile.sequence(ofFileName:)).sorted()
        var records: [JournalRecord] = []
        for sequence in recovery.sequences {
            let path = directory + "/" + JournalFile.fileName(sequence: sequence)
            let file = try PosixFile.open(path, create: false)
            let bytes = try file.read(count: try file.sizeBytes(), at: 0)
            let (fileRecords, validBytes) = decodeAll(bytes)
            if !RecordFormat.isZeroTail(bytes, from: validBytes) {
                logger.warning("journal file ends in a torn record (an unacknowledged write interrupted by a crash)",
                               metadata: ["file": "\(path)", "offset": "\(validBytes)"])
            }
            if let newest = fileRecords.lastIndex(where: { if case .checkpoint = $0 { true } else { false } }),
               case let .checkpoint(indices) = fileRecords[newest] {
                recovery.checkpoint = indices
                records = fileRecords
            } else {
                records += fileRecords
            }
        }
        for record in records {
            guard let partition = record.partition else { continue }
            recovery.partitions[partition, default: PartitionOps(durableFloor: recovery.checkpoint[partition] ?? .zero, ops: [])]
                .add(record)
        }
        return recovery
    }

    /// Every valid record from the start of `bytes`, and where they end.
    private static func decodeAll(_ bytes: [UInt8]) -> ([JournalRecord], Int) {
        bytes.withUnsafeBytes { raw in
            var records: [JournalRecord] = []
            var offset = 0
            while let (record, recordBytes) = JournalRecord.decode(raw, at: offset) {
                records.append(record)
                offset += recordBytes
            }
            return (records, offset)
        }
    }
}

extension JournalRecovery.PartitionOps {
    fileprivate mutating func add(_ record: JournalRecord) {
        switch record {
        case let .truncate(_, index), let .reset(_, index, _):
            durableFloor = min(durableFloor, index)
        case .append, .checkpoint:
            break
        }
        ops.append(record)
    }
}

extension RecordFormat {
    static func isZeroTail(_ bytes: [UInt8], from offset: Int) -> Bool {
        bytes.withUnsafeBytes { isZero($0, from: offset, to: $0.count) }
    }
}
