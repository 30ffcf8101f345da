import CartTypes

/// The bytes of one log record in a segment file. All integers are little-endian.
///
/// | offset | bytes | field          | meaning                                                        |
/// |-------:|------:|----------------|----------------------------------------------------------------|
/// |      0 |     4 | `payloadBytes` | length of the payload that follows the header                  |
/// |      4 |     4 | `crc32c`       | CRC-32C of bytes 0..<4 and 8..<32+payloadBytes                 |
/// |      8 |     4 | `partition`    | `PartitionID` the record belongs to                            |
/// |     12 |     4 | `durableFence` | bytes of this segment already synced when this record was written |
/// |     16 |     8 | `index`        | `LogIndex` (never 0)                                           |
/// |     24 |     8 | `term`         | `Term`                                                         |
/// |     32 |     n | payload        | opaque entry bytes                                             |
///
/// Zero padding follows up to the next 8-byte boundary (not covered by the CRC), so every
/// record starts 8-aligned and recovery can search forward for later records.
///
/// A preallocated, never-written region reads as zeros; an all-zero header can never be a
/// record because `index` is never 0. The CRC covers the length, so a torn or flipped
/// length is caught instead of steering the reader to a wrong offset.
///
/// `durableFence` lets recovery tell a torn tail from real damage: if a valid record
/// *after* a damaged offset says that offset had already been synced when it was written,
/// the damage is not an interrupted write but corruption of acknowledged data.
enum RecordFormat {
    static let headerBytes = 32
    static let alignmentBytes = 8

    struct Header: Hashable {
        var payloadBytes: Int
        var checksum: UInt32
        var partition: PartitionID
        var durableFence: Int
        var index: LogIndex
        var term: Term
    }

    /// What recovery finds at an offset.
    enum Probe {
        case record(Header, recordBytes: Int)
        /// Never-written (zero) space: the clean end of a segment, or a lost write.
        case zeros
        case invalid(reason: String)
    }

    static func recordBytes(payloadBytes: Int) -> Int {
        let unpadded = headerBytes + payloadBytes
        return (unpadded + alignmentBytes - 1) / alignmentBytes * alignmentBytes
    }

    /// Appends the encoded record to `buffer`.
    static func encode(_ entry: StoredEntry, partition: PartitionID, durableFence: Int, into buffer: inout [UInt8]) {
        precondition(entry.index != .zero, "log index 0 is reserved for 'no entry'")
        precondition(durableFence >= 0 && durableFence <= Int(UInt32.max), "durable fence must fit in 32 bits")
        let start = buffer.count
        append(UInt32(entry.payload.count), to: &buffer)
        append(UInt32(0), to: &buffer)
        append(partition.rawValue, to: &buffer)
        append(UInt32(durableFence), to: &buffer)
        append(entry.index.rawValue, to: &buffer)
        append(entry.term.rawValue, to: &buffer)
        buffer.append(contentsOf: entry.payload)
        let end = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: recordBytes(payloadBytes: entry.payload.count) - (end - start)))
        let checksum = buffer.withUnsafeBytes { checksumOfRecord($0, at: start, payloadBytes: entry.payload.count) }
        withUnsafeBytes(of: checksum.littleEndian) { raw in
            for offset in 0..<4 { buffer[start + 4 + offset] = raw[offset] }
        }
    }

    /// Checks the record at `offset` of `bytes` without trusting any field. `bytes` is a whole
    /// segment, or a piece of one that starts at `segmentOffset` (for the fence check).
    static func probe(_ bytes: UnsafeRawBufferPointer, at offset: Int, partition: PartitionID,
                      payloadBytesMax: Int, segmentOffset: Int = 0) -> Probe {
        guard bytes.count - offset >= headerBytes else {
            return isZero(bytes, from: offset, to: bytes.count) ? .zeros : .invalid(reason: "short header")
        }
        if isZero(bytes, from: offset, to: offset + headerBytes) { return .zeros }
        let header = decodeHeader(bytes, at: offset)
        guard header.payloadBytes <= payloadBytesMax else { return .invalid(reason: "length \(header.payloadBytes) over limit") }
        let size = recordBytes(payloadBytes: header.payloadBytes)
        guard bytes.count - offset >= size else { return .invalid(reason: "record runs past end of file") }
        guard checksumOfRecord(bytes, at: offset, payloadBytes: header.payloadBytes) == header.checksum else {
            return .invalid(reason: "checksum mismatch")
        }
        guard header.partition == partition else { return .invalid(reason: "record of partition \(header.partition)") }
        guard header.index != .zero else { return .invalid(reason: "index 0") }
        guard header.durableFence <= segmentOffset + offset else { return .invalid(reason: "durable fence beyond record") }
        return .record(header, recordBytes: size)
    }

    static func decodeHeader(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Header {
        Header(payloadBytes: Int(load(UInt32.self, bytes, offset)),
               checksum: load(UInt32.self, bytes, offset + 4),
               partition: PartitionID(load(UInt32.self, bytes, offset + 8)),
               durableFence: Int(load(UInt32.self, bytes, offset + 12)),
               index: LogIndex(load(UInt64.self, bytes, offset + 16)),
               term: Term(load(UInt64.self, bytes, offset + 24)))
    }

    static func payload(_ bytes: UnsafeRawBufferPointer, at offset: Int, header: Header) -> [UInt8] {
        Array(bytes[(offset + headerBytes)..<(offset + headerBytes + header.payloadBytes)])
    }

    static func isZero(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Bool {
        var offset = start
        while end - offset >= 8 {
            if bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self) != 0 { return false }
            offset += 8
        }
        while offset < end {
            if bytes[offset] != 0 { return false }
            offset += 1
        }
        return true
    }

    private static func checksumOfRecord(_ bytes: UnsafeRawBufferPointer, at offset: Int, payloadBytes: Int) -> UInt32 {
        let length = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + 4)]))
        return CRC32C.update(length, UnsafeRawBufferPointer(rebasing: bytes[(offset + 8)..<(offset + headerBytes + payloadBytes)]))
    }

    private static func load<T: FixedWidthInteger>(_ type: T.Type, _ bytes: UnsafeRawBufferPointer, _ offset: Int) -> T {
        T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to buffer: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }
}
