import ArgumentParser
import CartAPI
import CartClient
import CartDomain
import CartTypes

/// `cartctl cart replicas <cart>`: the cart's copy on each replica of its partition (a local
/// read on each) set against the leader's history (a linearizable read, taken after them).
struct CartReplicas: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replicas", abstract: "Compare each replica's copy of a cart with its leader's history.",
        discussion: "Reads each replica's own copy of the cart's retained history (a local read), then the leader's. "
            + "A copy may lag the leader by a few events; it must never differ from it. Exits 0 when every copy is "
            + "the leader's or a part of it from the start of what both keep, 4 when one differs or a replica "
            + "does not answer.")
    @Argument var cart: String
    @OptionGroup var global: GlobalOptions

    /// One replica's copy, as `--json` prints it.
    struct Copy: Encodable {
        let node: UInt64
        let endpoint: String
        /// "same", "behind", "differs" or "unread".
        let verdict: String
        let detail: String
        let appliedIndex: UInt64?
        let seq: UInt64?
    }

    struct Comparison: Encodable {
        let cart: String
        let partition: UInt32
        let leader: UInt64?
        let leaderSeq: UInt64
        let copies: [Copy]
        var consistent: Bool { copies.allSatisfy { $0.verdict == "same" || $0.verdict == "behind" } }

        enum CodingKeys: String, CodingKey { case cart, partition, leader, leaderSeq, copies, consistent }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(cart, forKey: .cart)
            try container.encode(partition, forKey: .partition)
            try container.encodeIfPresent(leader, forKey: .leader)
            try container.encode(leaderSeq, forKey: .leaderSeq)
            try container.encode(copies, forKey: .copies)
            try container.encode(consistent, forKey: .consistent)
        }
    }

    func run() async throws {
        let comparison = try await global.withClient { client in try await Self.compare(CartID(cart), client) }
        if global.json {
            Printer.json(comparison)
        } else {
            Printer.line("cart \(comparison.cart): partition p\(comparison.partition), "
                         + (comparison.leader.map { "leader n\($0)" } ?? "no leader known")
                         + ", the leader's history ends at #\(comparison.leaderSeq)")
            for copy in comparison.copies {
                let applied = copy.appliedIndex.map { "applied \($0)" } ?? "-"
                Printer.line("  n\(copy.node)  \(copy.endpoint)  \(applied)  \(copy.detail)")
            }
        }
        if !comparison.consistent { throw ExitCode(4) }
    }

    static func compare(_ cart: CartID, _ client: CartClient) async throws -> Comparison {
        let status = try await client.clusterStatus()
        let partition = PartitionMap(partitionCount: status.partitionCount).partition(of: cart)
        guard let view = status.partitions.first(where: { $0.partition == partition }) else {
            throw CommandFailure("node \(status.node) reports no partition \(partition)")
        }
        let addresses = Dictionary(status.nodes.map { ($0.node, $0.clientAddress) }, uniquingKeysWith: { first, _ in first })
        // The copies first, then the leader's history: every event a replica has applied was
        // committed before the linearizable read, so it is in the leader's answer, and a copy
        // ahead of that answer can only be one that differs (not writes made in between).
        var reads: [(node: NodeID, address: String, read: Result<([CartEvent], ReplicaPosition?), any Error>)] = []
        for node in view.replicas {
            let address = addresses[node] ?? "?"
            do {
                let endpoint = try Endpoint(parsing: address)
                let (events, servedBy) = try await CartEvents.retained(cart, from: Seq(1), client, .local(at: endpoint))
                reads.append((node, address, .success((events, servedBy))))
            } catch {
                reads.append((node, address, .failure(error)))
            }
        }
        let leaderHistory = try await CartEvents.retained(cart, from: Seq(1), client, .linearizable).events
        var copies: [Copy] = []
        for (node, address, read) in reads {
            switch read {
            case .success(let (events, servedBy)):
                let (verdict, detail) = Self.verdict(events, against: leaderHistory, isLeader: node == view.leader)
                copies.append(Copy(node: node.rawValue, endpoint: address, verdict: verdict, detail: detail,
                                   appliedIndex: servedBy?.appliedIndex.rawValue, seq: events.last?.seq.rawValue))
            case .failure(let error):
                copies.append(Copy(node: node.rawValue, endpoint: address, verdict: "unread", detail: "not read: \(error)",
                                   appliedIndex: nil, seq: nil))
            }
        }
        return Comparison(cart: cart.rawValue, partition: partition.rawValue,
                          leader: view.leader == .none ? nil : view.leader.rawValue,
                          leaderSeq: leaderHistory.last?.seq.rawValue ?? 0, copies: copies)
    }

    /// A copy against the leader's history: the events both keep must be equal, seq by seq;
    /// the copy may end earlier (it has not applied the rest yet) but not later.
    static func verdict(_ copy: [CartEvent], against leader: [CartEvent], isLeader: Bool) -> (String, String) {
        let leaderBySeq = Dictionary(leader.map { ($0.seq, $0) }, uniquingKeysWith: { first, _ in first })
        for event in copy {
            guard let theirs = leaderBySeq[event.seq] else {
                if let last = leader.last, event.seq > last.seq {
                    return ("differs", "has #\(event.seq.rawValue), past the leader's last event #\(last.seq.rawValue)")
                }
                continue  // older than what the leader keeps
            }
            if theirs != event {
                return ("differs", "DIFFERS at #\(event.seq.rawValue): \(event.change.name) v\(event.version.rawValue) "
                        + "against the leader's \(theirs.change.name) v\(theirs.version.rawValue)")
            }
        }
        let mine = copy.last?.seq.rawValue ?? 0
        let theirs = leader.last?.seq.rawValue ?? 0
        if mine == theirs { return ("same", isLeader ? "the leader's copy, #\(mine)" : "same as the leader's, #\(mine)") }
        guard mine < theirs else { return ("differs", "ends at #\(mine), past the leader's #\(theirs)") }
        return ("behind", "behind: #\(mine), \(theirs - mine) event\(theirs - mine == 1 ? "" : "s") to apply")
    }
}
