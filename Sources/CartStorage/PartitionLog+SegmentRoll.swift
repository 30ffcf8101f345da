import Foundation
import Logging

// A journaled log's segment roll, done off the appending thread. Sealing the full segment
// (a sync of everything written since the last checkpoint) and creating the next one (a
// preallocation, a sync of the file and of its directory) take milliseconds on a good disk
// and forever on one that hangs; the appender is a replica's event loop. So the appender
// only starts the roll: records for the next segment wait in memory (the journal already
// holds them durably) and are readable from there, while the log's roll queue seals and
// creates without the log's lock, then installs the new segment under it.
//
// The order on disk is the synchronous roll's: the sealed segment is synced in full before
// the next one exists, so damage in a segment that is not the last one is never a torn tail.

/// The segment a journaled log is rolling to: its records, encoded at offsets from 0.
/// Touched only under its log's lock, hence `@unchecked Sendable`.
final class SegmentRoll: @unchecked Sendable {
    let sequence: UInt64
    var records: [UInt8] = []
    /// Set while the roll queue seals and creates without the log's lock; waiters wait on it.
    var inProgress = false
    let began = ContinuousClock.now

    init(sequence: UInt64) {
        self.sequence = sequence
    }
}

extension PartitionLog {
    /// Where a record of `recordBytes` goes (segment, offset), starting a roll first if the
    /// active segment cannot take it. Called with `lock` held.
    func place(recordBytes: Int, completing completed: inout [DurabilityCompletion]) throws -> (segment: UInt64, offset: Int) {
        while true {
            // The roll takes the rest of the append: `makeRoomInRoll` made room for it first.
            if let roll = pendingRoll { return (roll.sequence, roll.records.count) }
            let end = active.writeOffset + unwritten.count
            if end == 0 || end + recordBytes <= active.capacityBytes { return (active.sequence, end) }
            try writeUnwritten()
            if defersRolls {
                startRoll()
            } else {
                try roll(completing: &completed)
            }
        }
    }

    /// Called with `lock` held by an append before it changes anything: if the records of
    /// `entries` would not fit in the roll's buffer (the next segment filled before it could
    /// be created: a disk this slow holds the journal back too), waits for the roll rather
    /// than let memory grow. The wait lets go of the lock, so the log is checked again after it.
    func makeRoomInRoll(for entries: [StoredEntry]) throws {
        guard let roll = pendingRoll, !roll.records.isEmpty else { return }
        let bytes = entries.reduce(0) { $0 + RecordFormat.recordBytes(payloadBytes: $1.payload.count) }
        guard roll.records.count + bytes > rollBufferBytesMax else { return }
        try finishRoll()
        try checkOpen()
        try validate(entries)
    }

    /// The most bytes of records a roll holds in memory before appends wait for it.
    var rollBufferBytesMax: Int { min(options.segmentBytesMax, Self.rollBufferBytesCap) }

    /// Starts a roll to the next segment; the roll queue seals and creates it. With `lock` held.
    private func startRoll() {
        let roll = SegmentRoll(sequence: active.sequence + 1)
        pendingRoll = roll
        rollQueue.async { [self] in performRoll(roll) }
    }

    /// On the roll queue: seals the active segment and creates `roll`'s, without the lock.
    private func performRoll(_ roll: SegmentRoll) {
        let taken = lock.withLock { () -> (Segment, DispatchSemaphore?)? in
            // Finished already by someone who needed it (`finishRoll`), or the log stopped.
            guard pendingRoll === roll, writeFailure == nil else { return nil }
            roll.inProgress = true
            return (active, rollGateForTesting)
        }
        guard let (sealing, gate) = taken else { return }
        let result = Result { try seal(sealing, andCreate: roll, passing: gate) }
        lock.withLock {
            defer {
                roll.inProgress = false
                lock.broadcast()
            }
            switch result {
            case let .success(made):
                install(roll, made)
            case let .failure(error):
                stopAfterFailedRoll(error)
            }
        }
    }

    /// Called with `lock` held: makes sure no roll is pending, waiting for one in progress
    /// (the wait lets go of the lock) or doing one not yet started right here. Throws if the
    /// log stopped. Whatever needs every entry in the files calls this first: checkpoints,
    /// truncations, resets, close.
    func finishRoll() throws {
        while let roll = pendingRoll, roll.inProgress { lock.wait() }
        if let writeFailure { throw writeFailure }
        guard let roll = pendingRoll else { return }
        do {
            install(roll, try seal(active, andCreate: roll, passing: rollGateForTesting))
        } catch {
            stopAfterFailedRoll(error)
            throw error
        }
    }

    /// A segment the roll created, and when its sealing began and ended.
    struct RolledSegment {
        var segment: Segment
        var started: ContinuousClock.Instant
        var sealed: ContinuousClock.Instant
    }

    /// The roll's file work, by the roll queue (without the lock) or by `finishRoll` (with
    /// it): passes the test gate, syncs `sealing` in full, then creates `roll`'s segment.
    private func seal(_ sealing: Segment, andCreate roll: SegmentRoll, passing gate: DispatchSemaphore?) throws -> RolledSegment {
        if let gate {
            gate.wait()
            gate.signal()
        }
        let started = ContinuousClock.now
        if options.syncPolicy == .fsyncPerBatch { try sealing.file.dataSync() }
        let sealed = ContinuousClock.now
        let segment = try Segment.create(directory: directory, sequence: roll.sequence,
                                         capacityBytes: options.segmentBytesMax, policy: options.syncPolicy)
        return RolledSegment(segment: segment, started: started, sealed: sealed)
    }

    /// With `lock` held: the rolled segment becomes the active one, with the roll's records
    /// waiting to be written at its start (the active segment's own records were written
    /// before the roll began, and none were added since).
    private func install(_ roll: SegmentRoll, _ made: RolledSegment) {
        precondition(unwritten.isEmpty, "records reached a segment that was being sealed")
        segments.append(made.segment)
        groupCommit.retarget(made.segment.file, durableBytes: 0)
        unwritten = roll.records
        pendingRoll = nil
        logger.info("rolled to a new segment", metadata: [
            "file": "\(made.segment.fileName)", "queuedMs": "\((made.started - roll.began).millisecondsText)",
            "sealMs": "\((made.sealed - made.started).millisecondsText)",
            "createMs": "\((ContinuousClock.now - made.sealed).millisecondsText)",
        ])
    }

    /// With `lock` held: the sealing sync or the creation failed. The files now lack entries
    /// the index table has (they wait in the roll, durable in the journal only), which is what
    /// a failed write leaves too: the log stops, and a reopening replays them from the journal.
    private func stopAfterFailedRoll(_ error: any Error) {
        if writeFailure == nil { writeFailure = error }
        logger.error("could not roll to the next segment; log stopped", metadata: ["error": "\(error)"])
    }
}
