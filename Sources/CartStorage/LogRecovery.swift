import CartTypes

/// Reads one segment file back after a restart and finds where its valid records end.
///
/// Damage is classified, never guessed: at the first offset `X` that does not hold a valid
/// record continuing the log, recovery searches the rest of the segment for a later valid
/// record whose `durableFence` is beyond `X`. Such a record proves `X` had been synced
/// (and possibly acknowledged) before it was written, so the damage is corruption and
/// the log refuses to open. Without one, `X` lies in the last, unsynced write batch: a torn
/// tail that is cut off. Segments before the last were synced in full when the log rolled
/// past them, so any damage in them is corruption.
enum LogRecovery {
    struct Record: Hashable {
        var index: LogIndex
        var term: Term
        var offset: Int
        var recordBytes: Int
    }

    struct Damage: Hashable {
        var offset: Int
        var reason: String
        /// True when the damage is an interrupted, never-acknowledged write (as far as the
        /// segment can tell; the hard state's commit index can overrule it).
        var isTornTail: Bool
    }

    struct SegmentScan {
        var records: [Record] = []
        /// Offset just past the last valid record.
        var validBytes = 0
        var damage: Damage?
    }

    /// Scans `bytes` (a whole segment). `previous` is the last record of the segments before.
    static func scan(_ bytes: [UInt8], partition: PartitionID, payloadBytesMax: Int,
                     previous: (index: LogIndex, term: Term)?, isLastSegment: Bool) -> SegmentScan {
        bytes.withUnsafeBytes { raw in
            var scan = SegmentScan()
            var last = previous
            var offset = 0
            while offset < raw.count {
                var problem: String
                switch RecordFormat.probe(raw, at: offset, partition: partition, payloadBytesMax: payloadBytesMax) {
                case let .record(header, recordBytes):
                    if let continuity = continuityProblem(header, after: last) {
                        problem = continuity
                    } else {
                        scan.records.append(Record(index: header.index, term: header.term, offset: offset, recordBytes: recordBytes))
                        last = (header.index, header.term)
                        offset += recordBytes
                        scan.validBytes = offset
                        continue
                    }
                case .zeros:
                    if RecordFormat.isZero(raw, from: offset, to: raw.count) { return scan }
                    problem = "zeroed bytes before later data"
                case let .invalid(reason):
                    problem = reason
                }
                let torn = isLastSegment && !laterRecordProvesDurable(raw, damageAt: offset, partition: partition,
                                                                       payloadBytesMax: payloadBytesMax)
                scan.damage = Damage(offset: offset, reason: problem, isTornTail: torn)
                return scan
            }
            return scan
        }
    }

    private static func continuityProblem(_ header: RecordFormat.Header, after last: (index: LogIndex, term: Term)?) -> String? {
        guard let last else { return nil }
        if header.index != last.index.next { return "index \(header.index) follows \(last.index)" }
        if header.term < last.term { return "term \(header.term) after \(last.term)" }
        return nil
    }

    /// True if some valid record after `damageAt` was written when `damageAt` was already synced.
    private static func laterRecordProvesDurable(_ raw: UnsafeRawBufferPointer, damageAt: Int,
                                                 partition: PartitionID, payloadBytesMax: Int) -> Bool {
        var offset = damageAt + RecordFormat.alignmentBytes
        while offset + RecordFormat.headerBytes <= raw.count {
            if case let .record(header, _) = RecordFormat.probe(raw, at: offset, partition: partition,
                                                                 payloadBytesMax: payloadBytesMax),
               header.durableFence > damageAt {
                return true
            }
            offset += RecordFormat.alignmentBytes
        }
        return false
    }
}
