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

    // MARK: primitives (one exclusive access to `bytes` each; the work is in WireBytes)

    @inline(__always) func writeTag(_ field: UInt32, _ wireType: WireType) { bytes.appendTag(field, wireType) }
    @inline(__always) func writeVarintField(_ field: UInt32, _ value: UInt64) { bytes.appendVarintField(field, value) }
    @inline(__always) func writeSignedField(_ field: UInt32, _ value: Int64) { bytes.appendVarintField(field, Varint.zigzag(value)) }
    @inline(__always) func writeFixed32Field(_ field: UInt32, _ bits: UInt32) { bytes.appendFixed32Field(field, bits) }
    @inline(__always) func writeFixed64Field(_ field: UInt32, _ bits: UInt64) { bytes.appendFixed64Field(field, bits) }
    @inline(__always) func writeBytesField(_ field: UInt32, _ raw: UnsafeRawBufferPointer) { bytes.appendBytesField(field, raw) }
    @inline(__always) func writeStringField(_ field: UInt32, _ string: String) { bytes.appendStringField(field, string) }
    func writeDateField(_ field: UInt32, _ date: Date) throws(WireEncodingError) { try bytes.appendDateField(field, date) }
    func writeUUIDField(_ field: UInt32, _ uuid: UUID) { bytes.appendUUIDField(field, uuid) }

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
        bytes.patchLength(placeholder: placeholder)
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
