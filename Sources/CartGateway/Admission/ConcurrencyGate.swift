/// Envoy-style concurrency caps for calls to one peer: at most `activeRequestsMax` calls in
/// flight, at most `pendingRequestsMax` more waiting in line for a slot, and everything beyond
/// that refused at once — so a slow peer holds a bounded number of requests (and their
/// memory) instead of all of them.
///
/// A pure value. Waiting is the caller's business: a `pending` permit is parked by the caller
/// and sent when a completion hands it back as promoted (first come, first served).
public struct ConcurrencyGate: Hashable, Sendable {
    public struct Limits: Hashable, Sendable {
        public static let requestsMax = 1_000_000

        public let activeRequestsMax: Int
        public let pendingRequestsMax: Int

        public init(activeRequestsMax: Int, pendingRequestsMax: Int) throws(AdmissionConfigurationError) {
            guard (1...Self.requestsMax).contains(activeRequestsMax), (0...Self.requestsMax).contains(pendingRequestsMax) else {
                throw AdmissionConfigurationError(
                    "activeRequestsMax \(activeRequestsMax) must be in 1...\(Self.requestsMax), pendingRequestsMax \(pendingRequestsMax) in 0...\(Self.requestsMax)")
            }
            self.activeRequestsMax = activeRequestsMax
            self.pendingRequestsMax = pendingRequestsMax
        }
    }

    public let limits: Limits
    public private(set) var active = 0
    /// Waiting permits, oldest first; `pendingHead` skips the ones already promoted so that
    /// promotion is O(1); the array is compacted when the skipped prefix dominates.
    private var pending: [AdmissionPermit] = []
    private var pendingHead = 0
    private var nextPermit: UInt64 = 1

    public init(limits: Limits) {
        self.limits = limits
    }

    public var pendingCount: Int { pending.count - pendingHead }

    public mutating func admit() -> Admission {
        if active < limits.activeRequestsMax {
            active += 1
            return .active(issuePermit())
        }
        guard pendingCount < limits.pendingRequestsMax else {
            return .overflow(active: active, pending: pendingCount)
        }
        let permit = issuePermit()
        pending.append(permit)
        return .pending(permit)
    }

    /// An active call finished (any outcome). Returns the pending permit that now takes its
    /// slot, which the caller must send, or nil when nobody was waiting.
    public mutating func complete(_ permit: AdmissionPermit) -> AdmissionPermit? {
        precondition(active > 0, "completion of \(permit) with no active calls")
        guard pendingCount > 0 else {
            active -= 1
            return nil
        }
        let promoted = pending[pendingHead]
        pendingHead += 1
        compactIfMostlyConsumed()
        return promoted
    }

    /// A waiting call gave up (its deadline passed, or it was cancelled) before being
    /// promoted. Returns false if it was not waiting (already promoted: complete it instead).
    public mutating func cancel(_ permit: AdmissionPermit) -> Bool {
        guard let index = pending[pendingHead...].firstIndex(of: permit) else { return false }
        pending.remove(at: index)
        return true
    }

    private mutating func issuePermit() -> AdmissionPermit {
        defer { nextPermit += 1 }
        return AdmissionPermit(id: nextPermit)
    }

    private mutating func compactIfMostlyConsumed() {
        guard pendingHead > 32, pendingHead * 2 > pending.count else { return }
        pending.removeFirst(pendingHead)
        pendingHead = 0
    }
}

/// One admitted or waiting call; released with `complete` or withdrawn with `cancel`.
public struct AdmissionPermit: Hashable, Sendable, CustomStringConvertible {
    public let id: UInt64
    public var description: String { "permit \(id)" }
}

/// The gate's answer; `overflow` maps to the wire code `resourceExhausted` (or to trying
/// another replica, for reads that allow it).
public enum Admission: Hashable, Sendable {
    /// Send now; call `complete` when it finishes.
    case active(AdmissionPermit)
    /// Wait until `complete` returns this permit, or `cancel` it.
    case pending(AdmissionPermit)
    /// Both the active slots and the waiting line are full.
    case overflow(active: Int, pending: Int)
}

public struct AdmissionConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    public let code = "admission.invalid_configuration"
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { "\(code): \(message)" }
}
