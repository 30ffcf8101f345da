import CartRaft
import CartTypes

/// A Raft group in one process with instant, in-order delivery: the harness for scenario
/// tests and the CPU benchmark. Faults are scripted, not random: cut links with
/// `isolate`/`cut`, drop or rewrite messages with `filter`. Each node follows the Ready
/// contract against its own `MemoryRaftLogStorage`.
public final class LocalCluster {
    public struct Link: Hashable, Sendable {
        public let from: NodeID
        public let to: NodeID
        public init(from: NodeID, to: NodeID) {
            self.from = from
            self.to = to
        }
    }

    /// Bound on delivery rounds in one `deliverAll()`, so a livelock fails instead of hangs.
    public static let deliveryRoundsMax = 10_000

    public private(set) var nodes: [NodeID: RaftNode] = [:]
    public private(set) var storages: [NodeID: MemoryRaftLogStorage] = [:]
    public let voters: [NodeID]
    /// Entries each node applied, in order (entries covered by an installed snapshot are
    /// not listed).
    public private(set) var applied: [NodeID: [Entry]] = [:]
    public private(set) var readStates: [NodeID: [ReadState]] = [:]
    public private(set) var installedSnapshots: [NodeID: [Snapshot]] = [:]
    /// Every message sent, for assertions on what the protocol did.
    public private(set) var sent: [Message] = []
    public private(set) var messagesSentCount = 0
    /// Keep a log of sent messages (tests); the benchmark turns it off.
    public var recordsMessages = true
    /// Directed links that lose every message.
    public var cutLinks: Set<Link> = []
    /// Sees every message that passes `cutLinks`: return it (possibly rewritten) to
    /// deliver it, or nil to drop it.
    public var intercept: ((Message) -> Message?)?
    /// Nodes whose disk stalls (`stallDisk`): their writes reach the storage but never
    /// become durable, so the messages of their Readies wait in `held`.
    public private(set) var stalledDisks: Set<NodeID> = []
    /// Send heartbeats, pre-votes, their answers and ReadIndex messages (and, with
    /// `leaderSendsBeforeDurable`, the leader's appends) before the Ready's writes are durable,
    /// as the node does (`RaftNode.maySendBeforeDurable`); false sends every message only
    /// with its Ready.
    public var sendsBeforeDurable = true
    private var held: [Message] = []
    /// The last entry each stalled node wrote, reported durable by `resumeDisks`.
    private var heldEntries: [NodeID: (index: LogIndex, term: Term)] = [:]
    private var inFlight: [Message] = []
    /// The same nodes and storages by position in `voters`, for the delivery loop (no
    /// hashing per message).
    private var nodeList: [RaftNode] = []
    private var storageList: [MemoryRaftLogStorage] = []
    private var optionsFor: (NodeID) -> RaftOptions
    private var random: SplitMix64

    /// A fresh group of `voters` with empty logs.
    public convenience init(voters: [NodeID], seed: UInt64 = 1,
                            options: @escaping (NodeID) -> RaftOptions = { RaftOptions(id: $0) }) {
        let configuration = Configuration(voters: voters)
        var storages: [NodeID: MemoryRaftLogStorage] = [:]
        for voter in voters { storages[voter] = MemoryRaftLogStorage(configuration: configuration) }
        self.init(storages: storages, seed: seed, options: options)
    }

    /// A group whose nodes start from the given (possibly pre-filled) storages.
    public init(storages: [NodeID: MemoryRaftLogStorage], seed: UInt64 = 1,
                options: @escaping (NodeID) -> RaftOptions = { RaftOptions(id: $0) }) {
        voters = storages.keys.sorted()
        optionsFor = options
        random = SplitMix64(seed: seed)
        for (id, storage) in storages {
            self.storages[id] = storage
            applied[id] = []
            readStates[id] = []
            installedSnapshots[id] = []
        }
        for id in voters { nodes[id] = makeNode(id) }
        nodeList = voters.map { nodes[$0]! }
        storageList = voters.map { self.storages[$0]! }
    }

    private func makeNode(_ id: NodeID) -> RaftNode {
        RaftNode(options: optionsFor(id), storage: storages[id]!, random: random.split())
    }

    public subscript(_ id: NodeID) -> RaftNode { nodes[id]! }

    /// The node every node agrees is leader, if any (by role, highest term wins).
    public var leader: RaftNode? {
        nodes.values.filter { $0.currentRole == .leader }.max { $0.currentTerm < $1.currentTerm }
    }

    // MARK: Faults

    /// Cuts every link to and from `node`.
    public func isolate(_ node: NodeID) {
        for other in voters where other != node {
            cutLinks.insert(Link(from: node, to: other))
            cutLinks.insert(Link(from: other, to: node))
        }
    }

    public func cut(from: NodeID, to: NodeID) {
        cutLinks.insert(Link(from: from, to: to))
    }

    public func heal() {
        cutLinks.removeAll()
    }

    /// From now on the syncs of `node` do not return: what its Readies write is stored, but
    /// their messages are held until `resumeDisks`.
    public func stallDisk(_ node: NodeID) {
        stalledDisks.insert(node)
    }

    /// The stalled syncs return: the held entries are reported durable and the held messages
    /// leave, in order.
    public func resumeDisks() {
        stalledDisks.removeAll()
        for (id, last) in heldEntries { nodes[id]?.persisted(through: last.index, term: last.term) }
        heldEntries.removeAll()
        inFlight.append(contentsOf: held)
        held.removeAll()
        deliverAll()
    }

    /// Rebuilds `node` from its storage, as after a crash once everything was persisted.
    public func restart(_ node: NodeID) {
        nodes[node] = makeNode(node)
        nodeList[voters.firstIndex(of: node)!] = nodes[node]!
        applied[node] = []
    }

    // MARK: Driving

    /// Ticks every node `times` times, delivering all messages after each tick.
    public func tick(_ times: Int = 1) {
        for _ in 0..<times {
            for node in nodeList { node.tick() }
            deliverAll()
        }
    }

    /// Ticks only `node`.
    public func tick(_ node: NodeID, times: Int = 1) {
        for _ in 0..<times {
            nodes[node]!.tick()
            deliverAll()
        }
    }

    /// Makes `node` campaign and runs the election to completion.
    public func campaign(_ node: NodeID) {
        nodes[node]!.campaign()
        deliverAll()
    }

    /// Feeds one message directly, bypassing links (for hand-written scenarios).
    public func inject(_ message: Message) throws {
        try nodes[message.to]!.step(message)
        deliverAll()
    }

    /// Processes Readies and delivers messages until nothing is left to do.
    public func deliverAll() {
        for _ in 0..<Self.deliveryRoundsMax {
            for position in voters.indices { processReadies(at: position) }
            if inFlight.isEmpty { return }
            let batch = inFlight
            inFlight.removeAll(keepingCapacity: true)
            for message in batch { deliver(message) }
        }
        preconditionFailure("LocalCluster did not quiesce within \(Self.deliveryRoundsMax) rounds")
    }

    private func deliver(_ message: Message) {
        guard cutLinks.isEmpty || !cutLinks.contains(Link(from: message.from, to: message.to)),
              let message = intercept.map({ $0(message) }) ?? message,
              let position = voters.firstIndex(of: message.to) else { return }
        let node = nodeList[position]
        do {
            try node.step(message)
        } catch {
            preconditionFailure("a correct peer sent a message that failed validation: \(error)")
        }
    }

    /// The Ready contract: persist, send, apply, advance.
    private func processReadies(at position: Int) {
        let node = nodeList[position]
        let storage = storageList[position]
        let id = voters[position]
        while true {
            if sendsBeforeDurable { send(node.takeMessagesSendableBeforeDurable()) }
            guard node.hasReady else { return }
            let ready = node.ready()
            var messages = ready.messages
            if sendsBeforeDurable {
                send(ready.messagesBeforeDurable)
            } else {
                messages = ready.messagesBeforeDurable + messages
            }
            if let snapshot = ready.snapshot { storage.applySnapshot(snapshot) }
            storage.append(ready.entries)
            if let hardState = ready.hardState { storage.setHardState(hardState) }
            if stalledDisks.contains(id) {
                if let last = ready.entries.last { heldEntries[id] = (last.index, last.term) }
                held.append(contentsOf: messages)
            } else {
                if let last = ready.entries.last { node.persisted(through: last.index, term: last.term) }
                send(messages)
            }
            if let snapshot = ready.snapshot { installedSnapshots[id]!.append(snapshot) }
            if recordsMessages {
                applied[id]!.append(contentsOf: ready.committedEntries)
            }
            if !ready.readStates.isEmpty { readStates[id]!.append(contentsOf: ready.readStates) }
            node.advance(ready)
        }
    }

    private func send(_ messages: [Message]) {
        guard !messages.isEmpty else { return }
        messagesSentCount += messages.count
        if recordsMessages { sent.append(contentsOf: messages) }
        inFlight.append(contentsOf: messages)
    }

    /// Takes a snapshot of `node` at its applied index and compacts its storage.
    public func compact(_ id: NodeID, data: [UInt8] = []) {
        let node = nodes[id]!
        storages[id]!.compact(through: node.appliedIndex, data: data, configuration: node.members)
    }

    /// Data of the non-empty entries `node` applied, in order.
    public func appliedData(_ id: NodeID) -> [[UInt8]] {
        applied[id]!.filter { !$0.data.isEmpty }.map(\.data)
    }

    public func clearSent() {
        sent.removeAll()
    }
}
