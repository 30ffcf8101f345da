#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The output of one encode: the bytes written so far and the nested messages still open.
///
/// A nested message is written as tag, a one-byte length placeholder, then its body; when
/// the body is complete the placeholder is patched (and widened in place if the length
/// needs more than one varint byte). This avoids a temporary buffer per nested message.
/// Codable has no "container finished" callback, so a message is closed when the container
/// that owns its field writes its next field or the value that opened it returns.
final class WireWriter {
    var bytes: [UInt8]
    /// Open nested messages, innermost last: where the length placeholder is, and the
    /// level of the container whose field the message is.
    private var openMessages: [(placeholder: Int, ownerLevel: Int)] = []

    /// The first error found where Codable gives no way to throw (`nestedContainer`,
    /// `superEncoder`); the top-level encode throws it when the value is done.
    private(set) var deferredError: WireEncodingError?

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    func `defer`(_ error: WireEncodingError) {
        if deferredError == nil { deferredError = error }
    }

    /// Runs `body`; on error remembers it and returns field number 0, which no decoder
    /// accepts, so the bytes are never mistaken for valid output.
    func deferringError(_ body: () throws(WireEncodingError) -> UInt32) -> UInt32 {
        do { return try body() } catch {
            `defer`(error)
            return 0
        }
    }

    // MARK: primitives

    @inline(__always)
    func writeTag(_ field: UInt32, _ wireType: WireType) {
        Varint.append(FieldTag.make(field: field, wireType: wireType), to: &bytes)
    }

    @inline(__always)
    func writeVarintField(_ field: UInt32, _ value: UInt64) {
        writeTag(field, .varint)
        Varint.append(value, to: &bytes)
    }

    @inline(__always)
    func writeSignedField(_ field: UInt32, _ value: Int64) {
        writeVarintField(field, Varint.zigzag(value))
    }

    func writeFixed32Field(_ field: UInt32, _ bits: UInt32) {
        writeTag(field, .fixed32)
        withUnsafeBytes(of: bits.littleEndian) { bytes.append(contentsOf: $0) }
    }

    func writeFixed64Field(_ field: UInt32, _ bits: UInt64) {
        writeTag(field, .fixed64)
        withUnsafeBytes(of: bits.littleEndian) { bytes.append(contentsOf: $0) }
    }

    @inline(__always)
    func writeBytesField(_ field: UInt32, _ raw: UnsafeRawBufferPointer) {
        writeTag(field, .lengthDelimited)
        Varint.append(UInt64(raw.count), to: &bytes)
        bytes.append(contentsOf: raw)
    }

    func writeStringField(_ field: UInt32, _ string: String) {
        var string = string
        string.withUTF8 { writeBytesField(field, UnsafeRawBufferPointer($0)) }
    }

    func writeDateField(_ field: UInt32, _ date: Date) throws(WireEncodingError) {
        // Nearest, not down: a decoded date (ms / 1000 as Double) times 1000 may land a hair
        // below the whole millisecond it came from.
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded(.toNearestOrAwayFromZero)
        guard let value = Int64(exactly: milliseconds) else {
            throw WireEncodingError(.unsupportedShape, "date \(date.timeIntervalSince1970)s since 1970 does not fit in Int64 milliseconds")
        }
        writeSignedField(field, value)
    }

    func writeUUIDField(_ field: UInt32, _ uuid: UUID) {
        withUnsafeBytes(of: uuid.uuid) { writeBytesField(field, $0) }
    }

    // MARK: nested messages

    /// Starts a nested message as field `field` of the container at `ownerLevel`.
    func openMessage(field: UInt32, ownerLevel: Int) {
        writeTag(field, .lengthDelimited)
        openMessages.append((bytes.count, ownerLevel))
        bytes.append(0)
    }

    /// Closes every open message owned by a container at `level` or deeper: called before a
    /// container writes a field and after a nested value has been written.
    @inline(__always)
    func closeMessages(ownedAtOrBelow level: Int) {
        while let last = openMessages.last, last.ownerLevel >= level {
            openMessages.removeLast()
            patchLength(placeholder: last.placeholder)
        }
    }

    private func patchLength(placeholder: Int) {
        let length = bytes.count - placeholder - 1
        if length < 0x80 {
            bytes[placeholder] = UInt8(length)
            return
        }
        let width = Varint.encodedCount(UInt64(length))
        bytes.insert(contentsOf: repeatElement(0, count: width - 1), at: placeholder + 1)
        var rest = UInt64(length)
        for offset in 0..<width {
            bytes[placeholder + offset] = UInt8(truncatingIfNeeded: rest) | (offset == width - 1 ? 0 : 0x80)
            rest >>= 7
        }
    }

    // MARK: deterministic order

    /// Reorders the consecutive chunks `ranges` (which together cover `ranges[0].lowerBound`
    /// up to the end of the output) by their bytes, so that sets and dictionaries encode the
    /// same way whatever their in-memory order.
    func sortChunks(_ ranges: [Range<Int>]) {
        guard ranges.count > 1, let start = ranges.first?.lowerBound else { return }
        let region = Array(bytes[start...])
        let sorted = ranges.sorted { lhs, rhs in
            region[(lhs.lowerBound - start)..<(lhs.upperBound - start)]
                .lexicographicallyPrecedes(region[(rhs.lowerBound - start)..<(rhs.upperBound - start)])
        }
        var offset = start
        for range in sorted {
            let chunk = region[(range.lowerBound - start)..<(range.upperBound - start)]
            bytes.replaceSubrange(offset..<(offset + chunk.count), with: chunk)
            offset += chunk.count
        }
    }
}
