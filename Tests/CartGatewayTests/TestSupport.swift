import Foundation
import XCTest
@testable import CartGateway

/// A seeded generator (SplitMix64) so that jittered delays replay exactly from a seed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A clock that only moves when told to, shared by threads: every reading is also a step,
/// so concurrent callers see distinct, increasing instants.
final class SteppingClock: @unchecked Sendable {
    // `@unchecked Sendable`: `nanoseconds` is only touched under `lock`.
    private let lock = NSLock()
    private var nanoseconds: UInt64

    init(start: MonotonicInstant = .zero) { nanoseconds = start.nanoseconds }

    func advance(byNanoseconds step: UInt64) -> MonotonicInstant {
        lock.withLock {
            nanoseconds += step
            return MonotonicInstant(nanoseconds: nanoseconds)
        }
    }

    var now: MonotonicInstant { lock.withLock { MonotonicInstant(nanoseconds: nanoseconds) } }
}

/// A fresh directory under the system temporary directory, removed by the test's teardown.
func makeTemporaryDirectory(for testCase: XCTestCase) throws -> String {
    let path = NSTemporaryDirectory() + "cartgateway-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    testCase.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

/// The typed error `body` throws, or nil when it returns.
func thrownError<E: Error, T>(_ body: () throws(E) -> T) -> E? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}
