import CartRaft
import CartTypes

/// The replicated state machine of the simulation: the set of proposal ids applied so far
/// plus a running digest of every applied entry, so two replicas at the same index can be
/// compared in O(1). Its snapshot carries both.
struct SimStateMachine {
    private(set) var appliedIndex: LogIndex = .zero
    private(set) var digest: UInt64 = 0xcbf2_9ce4_8422_2325
    private(set) var proposalIDs: Set<UInt64> = []

    enum ApplyError: Error, CustomStringConvertible {
        case outOfOrder(expected: LogIndex, got: LogIndex)
        case appliedTwice(proposal: UInt64, index: LogIndex)

        var description: String {
            switch self {
            case .outOfOrder(let expected, let got): "applied \(got) where \(expected) was next"
            case .appliedTwice(let proposal, let index): "proposal \(proposal) applied twice (again at \(index))"
            }
        }
    }

    mutating func apply(_ entry: Entry) throws(ApplyError) {
        guard entry.index == appliedIndex.next else {
            throw .outOfOrder(expected: appliedIndex.next, got: entry.index)
        }
        if let id = SimPayload.proposalID(entry.data) {
            guard proposalIDs.insert(id).inserted else { throw .appliedTwice(proposal: id, index: entry.index) }
        }
        appliedIndex = entry.index
        mix(entry.index.rawValue)
        mix(entry.term.rawValue)
        for byte in entry.data { mix(UInt64(byte)) }
    }

    private mutating func mix(_ value: UInt64) {
        digest = (digest ^ value) &* 0x0000_0100_0000_01b3
    }

    func snapshotData() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24 + proposalIDs.count * 8)
        for value in [appliedIndex.rawValue, digest, UInt64(proposalIDs.count)] + proposalIDs.sorted() {
            withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    /// Our own snapshot format, written by `snapshotData()`; anything else is a bug.
    init(snapshotData bytes: [UInt8]) {
        precondition(bytes.count >= 24 && bytes.count % 8 == 0, "corrupt simulation snapshot")
        let values = stride(from: 0, to: bytes.count, by: 8).map { offset in
            bytes[offset..<offset + 8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        }
        appliedIndex = LogIndex(values[0])
        digest = values[1]
        proposalIDs = Set(values[3...])
        precondition(proposalIDs.count == Int(values[2]), "corrupt simulation snapshot")
    }

    init() {}
}

/// Proposal payloads: an 8-byte unique id, then filler of varying length so batching by
/// bytes is exercised.
enum SimPayload {
    static func make(id: UInt64, fillerBytes: Int) -> [UInt8] {
        var bytes = withUnsafeBytes(of: id.bigEndian) { Array($0) }
        bytes.append(contentsOf: repeatElement(UInt8(truncatingIfNeeded: id), count: fillerBytes))
        return bytes
    }

    static func proposalID(_ data: [UInt8]) -> UInt64? {
        guard data.count >= 8 else { return nil }
        return data[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }
}
