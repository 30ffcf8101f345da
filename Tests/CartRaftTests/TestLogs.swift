import CartRaft
import CartTypes

/// Builds storages holding given logs, to start scenarios from the paper's figures.
enum TestLogs {
    /// `logs[node]` lists the term of each entry from index 1. Every node starts in `term`
    /// with no vote and commit index `commit`.
    static func storages(_ configuration: Configuration, logs: [NodeID: [UInt64]], term: UInt64,
                         commit: LogIndex = .zero) -> [NodeID: MemoryRaftLogStorage] {
        var result: [NodeID: MemoryRaftLogStorage] = [:]
        for (node, terms) in logs {
            let storage = MemoryRaftLogStorage(configuration: configuration)
            storage.append(entries(terms: terms))
            storage.setHardState(HardState(term: Term(term), vote: .none,
                                           commit: min(commit, LogIndex(UInt64(terms.count)))))
            result[node] = storage
        }
        return result
    }

    /// Entries with the given terms from index 1; data names index and term so that entries
    /// from different leaders differ.
    static func entries(terms: [UInt64]) -> [Entry] {
        terms.enumerated().map { offset, term in
            Entry(term: Term(term), index: LogIndex(UInt64(offset + 1)), data: Array("i\(offset + 1)t\(term)".utf8))
        }
    }

    static func terms(of node: RaftNode) -> [UInt64] {
        node.logEntries(LogIndex(1)..<node.lastIndex.next).map(\.term.rawValue)
    }
}
