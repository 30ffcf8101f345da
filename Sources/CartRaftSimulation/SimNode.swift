import CartRaft
import CartTypes

/// One simulated server: the real core, the storage that survives crashes, and a volatile
/// state machine rebuilt from the storage's snapshot on restart.
struct SimNode {
    let id: NodeID
    /// What is on "disk". The simulation writes to it only what the Ready contract says
    /// to persist, before sending that Ready's messages, so whatever a crash destroys was
    /// never promised to anyone.
    private(set) var storage: MemoryRaftLogStorage
    /// With asynchronous writes: what the disk holds for sure (the state after the last
    /// completed sync), and the Readies written since, oldest first, each with the state
    /// its sync will make durable.
    private(set) var durable: MemoryRaftLogStorage
    var unsynced: [UnsyncedReady] = []

    struct UnsyncedReady {
        let ready: Ready
        let image: MemoryRaftLogStorage
        let dueAt: Int
    }
    var raft: RaftNode?
    var stateMachine = SimStateMachine()
    /// The next Ready that writes anything is torn: a prefix of it reaches the disk, then
    /// the node crashes before sending.
    var tornWriteArmed = false
    var defect: SimulationOptions.StorageDefect?

    var isUp: Bool { raft != nil }

    init(id: NodeID, configuration: Configuration) {
        self.id = id
        storage = MemoryRaftLogStorage(configuration: configuration)
        durable = storage.copy()
    }

    mutating func start(options: RaftOptions, random: SplitMix64) {
        let snapshot = try! storage.snapshot()
        stateMachine = snapshot.isEmpty ? SimStateMachine() : SimStateMachine(snapshotData: snapshot.data)
        raft = RaftNode(options: options, storage: storage, random: random)
    }

    /// Stops the node. With writes not yet synced, the disk keeps a random prefix of them
    /// (each sync covers the writes before it) and loses the rest.
    mutating func crash(random: inout SplitMix64) {
        raft = nil
        tornWriteArmed = false
        if !unsynced.isEmpty {
            let kept = Int(random.next() % UInt64(unsynced.count + 1))
            storage = kept == 0 ? durable.copy() : unsynced[kept - 1].image.copy()
            durable = storage.copy()
            unsynced.removeAll()
        }
    }

    /// Writes `ready` without making it durable and queues its sync (asynchronous writes).
    mutating func write(_ ready: Ready, dueAt: Int) {
        store(ready)
        unsynced.append(UnsyncedReady(ready: ready, image: storage.copy(), dueAt: max(dueAt, unsynced.last?.dueAt ?? dueAt)))
    }

    /// The oldest unsynced Ready, if its sync has completed by `now`; the disk now holds it.
    mutating func takeSynced(now: Int) -> Ready? {
        guard let first = unsynced.first, first.dueAt <= now else { return nil }
        unsynced.removeFirst()
        durable = first.image
        return first.ready
    }

    /// Writes what `ready` asks for. Returns false if the write was torn (the node must
    /// then crash without sending).
    mutating func persist(_ ready: Ready, random: inout SplitMix64) -> Bool {
        if tornWriteArmed && Self.writesAnything(ready) {
            tornWriteArmed = false
            persistTorn(ready, random: &random)
            return false
        }
        store(ready)
        return true
    }

    /// Whether `ready` asks for any write (a torn write needs one to tear).
    static func writesAnything(_ ready: Ready) -> Bool {
        ready.snapshot != nil || !ready.entries.isEmpty || ready.hardState != nil
    }

    /// Snapshot, entries, then hard state, into `storage` (the storage defect applied).
    private mutating func store(_ ready: Ready) {
        if let snapshot = ready.snapshot { storage.applySnapshot(snapshot) }
        storage.append(ready.entries)
        if var hardState = ready.hardState {
            if defect == .forgetsVotes { hardState.vote = .none }
            storage.setHardState(hardState)
        }
    }

    /// A crash in the middle of a write: the snapshot may or may not land, then a prefix of
    /// the entries (only if the snapshot did, or there was none), and the hard state
    /// only if everything before it landed (it is written last).
    private func persistTorn(_ ready: Ready, random: inout SplitMix64) {
        if let snapshot = ready.snapshot {
            guard random.chance(0.5) else { return }
            storage.applySnapshot(snapshot)
        }
        let kept = Int(random.next() % UInt64(ready.entries.count + 1))
        storage.append(Array(ready.entries.prefix(kept)))
        if kept == ready.entries.count, let hardState = ready.hardState, random.chance(0.5) {
            storage.setHardState(hardState)
        }
    }

    /// Takes a snapshot of the state machine and compacts the log behind it.
    mutating func compactIfDue(afterEntries entriesMax: Int) {
        guard let raft else { return }
        let snapshotIndex = try! storage.firstIndex().previous
        guard stateMachine.appliedIndex.rawValue >= snapshotIndex.rawValue + UInt64(entriesMax),
              stateMachine.appliedIndex <= storage.hardState.commit else { return }
        storage.compact(through: stateMachine.appliedIndex, data: stateMachine.snapshotData(),
                        configuration: raft.members)
    }
}
