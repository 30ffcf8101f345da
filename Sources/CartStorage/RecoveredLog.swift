import CartTypes
import Logging

/// The state `PartitionLog.open` rebuilds from the files: segments (the last one active,
/// its write offset just past the last valid record), the index table and the boundary.
struct RecoveredLog {
    var segments: [Segment]
    var table: LogIndexTable
    var boundary: CompactionBoundary

    /// `committed` is the commit index of the saved hard state: entries up to it were
    /// durable, so a damaged tail that would cut one of them is corruption, not a torn write.
    static func recover(directory: String, partition: PartitionID, options: PartitionLogOptions,
                        committed: LogIndex, logger: Logger) throws -> RecoveredLog {
        let boundaryPath = directory + "/" + PartitionLog.boundaryFileName
        let boundary = try MetadataFile.read(boundaryPath).map { try CompactionBoundary(decoding: $0, path: boundaryPath) } ?? .none
        let listed = try PosixFile.listDirectory(directory).compactMap(Segment.sequence(ofFileName:)).sorted()
        let sequences = try removeDeadSegments(listed, below: boundary.firstSegment, directory: directory, options: options, logger: logger)
        var recovered = RecoveredLog(segments: [], table: LogIndexTable(firstIndex: boundary.index.next), boundary: boundary)
        var previous: (index: LogIndex, term: Term)?
        for (position, sequence) in sequences.enumerated() {
            let segment = try Segment.open(directory: directory, sequence: sequence, capacityBytes: options.segmentBytesMax)
            let bytes = try segment.file.read(count: try segment.file.sizeBytes(), at: 0)
            let isLast = position == sequences.count - 1
            let scan = LogRecovery.scan(bytes, partition: partition, payloadBytesMax: options.payloadBytesMax,
                                        previous: previous, isLastSegment: isLast)
            segment.writeOffset = scan.validBytes
            try recovered.add(segment, scan.records)
            previous = scan.records.last.map { ($0.index, $0.term) } ?? previous
            if var damage = scan.damage {
                let firstLost = previous.map { $0.index.next } ?? boundary.index.next
                if damage.isTornTail && firstLost <= committed {
                    damage.isTornTail = false
                    damage.reason += "; cutting here would lose committed entry \(firstLost) (commit \(committed))"
                }
                try handle(damage, in: segment, laterSegments: Array(sequences[(position + 1)...]),
                           directory: directory, options: options, logger: logger)
                break
            }
        }
        try recovered.dropCompactedSegments(directory: directory, options: options)
        if recovered.segments.isEmpty {
            let next = max((listed.last ?? 0) + 1, boundary.firstSegment)
            recovered.segments = [try Segment.create(directory: directory, sequence: next,
                                                     capacityBytes: options.segmentBytesMax, policy: options.syncPolicy)]
        } else {
            try recovered.prepareLastSegment(directory: directory, options: options)
        }
        return recovered
    }

    /// Deletes the segments the boundary declares dead (finishing a compaction or snapshot
    /// reset that a crash or a failed `unlink` interrupted); returns the others.
    private static func removeDeadSegments(_ sequences: [UInt64], below firstSegment: UInt64, directory: String,
                                           options: PartitionLogOptions, logger: Logger) throws -> [UInt64] {
        let dead = sequences.filter { $0 < firstSegment }
        guard !dead.isEmpty else { return sequences }
        logger.info("deleting segments left behind by an interrupted compaction or reset",
                    metadata: ["count": "\(dead.count)", "firstLiveSegment": "\(firstSegment)"])
        for sequence in dead { try PosixFile.remove(directory + "/" + Segment.fileName(sequence: sequence)) }
        if options.syncPolicy == .fsyncPerBatch { try PosixFile.syncDirectory(directory) }
        return sequences.filter { $0 >= firstSegment }
    }

    /// Readies the segment new records go to. A crash while it was being created can leave
    /// it short of its capacity (never preallocated) and its name not yet durable, so it is
    /// preallocated again and synced with its directory, as `Segment.create` would have done.
    /// The file sync also matters after a mere process crash: bytes recovered from the page
    /// cache may not be on the disk yet, and new records will name them durable in their fence.
    private func prepareLastSegment(directory: String, options: PartitionLogOptions) throws {
        let last = segments.last!
        if try last.file.sizeBytes() < last.capacityBytes { try last.file.preallocate(bytes: last.capacityBytes) }
        if options.syncPolicy == .fsyncPerBatch {
            try last.file.fullSync()
            try PosixFile.syncDirectory(directory)
        }
    }

    /// Adds a scanned segment's records above the compaction boundary to the index table.
    private mutating func add(_ segment: Segment, _ records: [LogRecovery.Record]) throws {
        segments.append(segment)
        for record in records where record.index > boundary.index {
            guard record.index == table.lastIndex.next else {
                throw StorageError.missingEntries(file: segment.path, expected: table.lastIndex.next, found: record.index)
            }
            table.append(.init(segment: segment.sequence, offset: record.offset, recordBytes: record.recordBytes, term: record.term))
        }
    }

    /// Cuts a torn tail, or (repair mode) the log at corruption; otherwise refuses to open.
    private static func handle(_ damage: LogRecovery.Damage, in segment: Segment, laterSegments: [UInt64],
                               directory: String, options: PartitionLogOptions, logger: Logger) throws {
        let metadata: Logger.Metadata = ["file": "\(segment.path)", "offset": "\(damage.offset)", "reason": "\(damage.reason)"]
        if damage.isTornTail {
            logger.warning("cutting torn tail of the log (an unacknowledged write interrupted by a crash)", metadata: metadata)
        } else if options.recoveryMode == .truncateAtCorruption {
            logger.error("repair: cutting the log at corrupt record and dropping \(laterSegments.count) later segments",
                         metadata: metadata)
            for sequence in laterSegments.reversed() { try PosixFile.remove(directory + "/" + Segment.fileName(sequence: sequence)) }
            if options.syncPolicy == .fsyncPerBatch { try PosixFile.syncDirectory(directory) }
        } else {
            throw StorageError.corruptRecord(file: segment.path, offset: damage.offset, reason: damage.reason)
        }
        try segment.cut(at: damage.offset, policy: options.syncPolicy)
    }

    /// Deletes segments holding only compacted entries (finishing a compaction a crash
    /// interrupted). The last segment stays unless nothing in it is above the boundary.
    private mutating func dropCompactedSegments(directory: String, options: PartitionLogOptions) throws {
        let keepFrom = table.firstSegment ?? UInt64.max
        let doomed = segments.filter { $0.sequence < keepFrom && !($0 === segments.last && $0.writeOffset == 0) }
        guard !doomed.isEmpty else { return }
        for segment in doomed.reversed() { try PosixFile.remove(segment.path) }
        if options.syncPolicy == .fsyncPerBatch { try PosixFile.syncDirectory(directory) }
        segments.removeAll { kept in doomed.contains { $0 === kept } }
    }
}
