import CartTypes
import Foundation
import Logging
import XCTest
@testable import CartGateway

/// The circuit breaker's state machine under injected failures, every transition.
final class CircuitBreakerTests: XCTestCase {
    // Window of 10 calls, judged from 5, opens at 50% failures, open for 1 s, 2 probes.
    private func configuration() throws -> CircuitBreaker.Configuration {
        try CircuitBreaker.Configuration(
            windowCalls: 10, callsMin: 5, failureRatePercentThreshold: 50,
            openDurationMs: 1_000, probeCallsMax: 2, halfOpenRetryAfterMs: 50)
    }

    private func call(_ breaker: inout CircuitBreaker, succeeds: Bool, at now: MonotonicInstant) -> BreakerTransition? {
        guard case .allowed(let permit) = breaker.admit(now: now).decision else {
            XCTFail("call at \(now) was refused in state \(breaker.state)")
            return nil
        }
        return breaker.record(permit, succeeded: succeeds, now: now)
    }

    /// Four failures in a row do not open the breaker: four calls are too few to judge
    /// (callsMin is 5). The fifth failure does.
    func testFewerThanCallsMinNeverOpens() throws {
        var breaker = CircuitBreaker(configuration: try configuration())
        for _ in 0..<4 { XCTAssertNil(call(&breaker, succeeds: false, at: .zero)) }
        XCTAssertEqual(breaker.state, .closed)
        let transition = call(&breaker, succeeds: false, at: .milliseconds(7))
        XCTAssertEqual(transition?.to, .open(until: .milliseconds(1_007)))
        XCTAssertEqual(transition?.failureRatePercent, 100)
    }

    /// A healthy-enough peer stays closed: 4 failures in 10 calls is 40%, under the threshold.
    /// Then the window slides: as successes drop out and failures come in, 5 of the last 10
    /// failing reaches 50% and opens it.
    func testFailureRateOverTheSlidingWindowOpensAtTheThreshold() throws {
        var breaker = CircuitBreaker(configuration: try configuration())
        let first = Array(repeating: true, count: 6) + Array(repeating: false, count: 4)  // 40% at most
        for succeeds in first { XCTAssertNil(call(&breaker, succeeds: succeeds, at: .zero)) }
        XCTAssertEqual(breaker.state, .closed)
        // This failure pushes out the first success: the window now holds 5 failures in 10.
        let transition = call(&breaker, succeeds: false, at: .zero)
        XCTAssertEqual(transition?.from, .closed)
        XCTAssertEqual(transition?.failureRatePercent, 50)
        XCTAssertEqual(transition?.callsInWindow, 10)
    }

    /// Open fails fast with the time left until half-open, then the first call after the open
    /// duration is a probe; only `probeCallsMax` probes go out at once.
    func testOpenFailsFastThenHalfOpenAdmitsOnlyTheProbes() throws {
        var breaker = CircuitBreaker(configuration: try configuration())
        for _ in 0..<5 { _ = call(&breaker, succeeds: false, at: .zero) }
        XCTAssertEqual(breaker.admit(now: .milliseconds(1)).decision, .rejected(retryAfterMs: 999))
        XCTAssertEqual(breaker.admit(now: MonotonicInstant(nanoseconds: 999_999_999)).decision, .rejected(retryAfterMs: 1))

        let (first, transition) = breaker.admit(now: .milliseconds(1_000))
        XCTAssertEqual(transition?.to, .halfOpen)
        guard case .allowed(let probe1) = first else { return XCTFail("first call after open duration must be a probe") }
        XCTAssertTrue(probe1.isProbe)
        guard case .allowed(let probe2) = breaker.admit(now: .milliseconds(1_001)).decision else { return XCTFail("second probe refused") }
        XCTAssertEqual(breaker.admit(now: .milliseconds(1_002)).decision, .rejected(retryAfterMs: 50), "a third probe is over the limit")

        // Both probes succeed: closed again, with an empty window (old failures forgotten).
        XCTAssertNil(breaker.record(probe1, succeeded: true, now: .milliseconds(1_010)))
        XCTAssertEqual(breaker.state, .halfOpen)
        XCTAssertEqual(breaker.record(probe2, succeeded: true, now: .milliseconds(1_011))?.to, .closed)
        for _ in 0..<4 { XCTAssertNil(call(&breaker, succeeds: false, at: .milliseconds(1_100))) }
        XCTAssertEqual(breaker.state, .closed, "the window restarted empty, so four failures are below callsMin")
    }

    /// A failed probe reopens the breaker for another full open duration.
    func testFailedProbeReopens() throws {
        var breaker = CircuitBreaker(configuration: try configuration())
        for _ in 0..<5 { _ = call(&breaker, succeeds: false, at: .zero) }
        guard case .allowed(let probe) = breaker.admit(now: .milliseconds(2_000)).decision else { return XCTFail("probe refused") }
        let transition = breaker.record(probe, succeeded: false, now: .milliseconds(2_005))
        XCTAssertEqual(transition?.from, .halfOpen)
        XCTAssertEqual(transition?.to, .open(until: .milliseconds(3_005)))
        XCTAssertEqual(breaker.admit(now: .milliseconds(2_006)).decision, .rejected(retryAfterMs: 999))
    }

    /// Word that the peer answers again turns an open breaker half-open before its open time
    /// is over: the next calls are probes, which decide as usual. A closed or half-open
    /// breaker is left as it is.
    func testAPeerThatAnswersAgainIsProbedBeforeTheOpenTimeIsOver() throws {
        var breaker = CircuitBreaker(configuration: try configuration())
        XCTAssertNil(breaker.peerAnswers(now: .zero), "closed: nothing to do")
        for _ in 0..<5 { _ = call(&breaker, succeeds: false, at: .zero) }
        XCTAssertEqual(breaker.admit(now: .milliseconds(100)).decision, .rejected(retryAfterMs: 900))

        let transition = breaker.peerAnswers(now: .milliseconds(200))
        XCTAssertEqual(transition?.from, .open(until: .milliseconds(1_000)))
        XCTAssertEqual(transition?.to, .halfOpen)
        XCTAssertNil(breaker.peerAnswers(now: .milliseconds(201)), "half-open already")
        guard case .allowed(let probe1) = breaker.admit(now: .milliseconds(210)).decision,
              case .allowed(let probe2) = breaker.admit(now: .milliseconds(210)).decision else {
            return XCTFail("the probes are refused")
        }
        XCTAssertTrue(probe1.isProbe)
        _ = breaker.record(probe1, succeeded: true, now: .milliseconds(220))
        XCTAssertEqual(breaker.record(probe2, succeeded: true, now: .milliseconds(221))?.to, .closed)

        // A probe that fails opens it again for a full open time, as any failed probe does.
        for _ in 0..<5 { _ = call(&breaker, succeeds: false, at: .milliseconds(300)) }
        _ = breaker.peerAnswers(now: .milliseconds(310))
        guard case .allowed(let probe) = breaker.admit(now: .milliseconds(320)).decision else { return XCTFail("probe refused") }
        XCTAssertEqual(breaker.record(probe, succeeded: false, now: .milliseconds(330))?.to, .open(until: .milliseconds(1_330)))
    }

    /// A slow call admitted while closed that fails after the breaker went half-open says
    /// nothing about the probes: it is ignored, and the probes decide.
    func testOutcomeOfACallFromBeforeTheLastChangeIsIgnored() throws {
        var breaker = CircuitBreaker(configuration: try configuration())
        guard case .allowed(let slowCall) = breaker.admit(now: .zero).decision else { return XCTFail() }
        for _ in 0..<5 { _ = call(&breaker, succeeds: false, at: .zero) }
        guard case .allowed(let probe1) = breaker.admit(now: .milliseconds(1_000)).decision,
              case .allowed(let probe2) = breaker.admit(now: .milliseconds(1_000)).decision else { return XCTFail() }
        XCTAssertNil(breaker.record(slowCall, succeeded: false, now: .milliseconds(1_001)))
        XCTAssertEqual(breaker.state, .halfOpen)
        _ = breaker.record(probe1, succeeded: true, now: .milliseconds(1_002))
        XCTAssertEqual(breaker.record(probe2, succeeded: true, now: .milliseconds(1_003))?.to, .closed)
    }

    /// Nonsense settings are configuration errors.
    func testInvalidConfigurationsAreRefused() {
        XCTAssertNotNil(thrownError { () throws(BreakerConfigurationError) in try CircuitBreaker.Configuration(windowCalls: 0) })
        XCTAssertNotNil(thrownError { () throws(BreakerConfigurationError) in try CircuitBreaker.Configuration(windowCalls: 5, callsMin: 6) })
        XCTAssertNotNil(thrownError { () throws(BreakerConfigurationError) in try CircuitBreaker.Configuration(failureRatePercentThreshold: 0) })
        XCTAssertNotNil(thrownError { () throws(BreakerConfigurationError) in try CircuitBreaker.Configuration(probeCallsMax: 0) })
    }

    /// Story: peer n2 starts failing while n3 is healthy. The registry opens n2's breaker only,
    /// logs the change with the peer's id, counts it, and tells the callback; n3's calls pass.
    /// Later n2 recovers through half-open to closed, and every change is counted once.
    func testRegistryKeepsOneBreakerPerPeerAndReportsEveryChange() throws {
        let logged = LogCapture()
        let seen = TransitionCapture()
        let registry = BreakerRegistry(
            configuration: try configuration(),
            logger: Logger(label: "test.breaker") { _ in logged },
            onTransition: { peer, transition in seen.append(peer, transition) })
        let sick = NodeID(2)
        let healthy = NodeID(3)
        for index in 0..<5 {
            let now = MonotonicInstant.milliseconds(UInt64(index))
            for (peer, succeeds) in [(sick, false), (healthy, true)] {
                guard case .allowed(let permit) = registry.admit(peer: peer, now: now) else { return XCTFail("\(peer) refused") }
                registry.record(peer: peer, permit, succeeded: succeeds, now: now)
            }
        }
        XCTAssertEqual(registry.state(of: sick), .open(until: .milliseconds(1_004)))
        XCTAssertEqual(registry.state(of: healthy), .closed)
        XCTAssertEqual(registry.admit(peer: sick, now: .milliseconds(10)), .rejected(retryAfterMs: 994))
        guard case .allowed = registry.admit(peer: healthy, now: .milliseconds(10)) else { return XCTFail("healthy peer refused") }

        for _ in 0..<2 {
            guard case .allowed(let probe) = registry.admit(peer: sick, now: .milliseconds(1_004)) else { return XCTFail("probe refused") }
            registry.record(peer: sick, probe, succeeded: true, now: .milliseconds(1_005))
        }
        XCTAssertEqual(registry.state(of: sick), .closed)
        let counters = registry.counters
        XCTAssertEqual([counters.opened, counters.halfOpened, counters.closed], [1, 1, 1])
        XCTAssertEqual(counters.rejected, 1)
        XCTAssertEqual(seen.peers, [sick, sick, sick])
        XCTAssertEqual(logged.messages.count, 3)
        XCTAssertTrue(logged.messages[0].contains("opened") && logged.messages[0].contains("peer=n2"), logged.messages[0])
    }
}

/// Collects breaker transitions from the registry's callback.
final class TransitionCapture: @unchecked Sendable {
    // `@unchecked Sendable`: `entries` is only touched under `lock`.
    private let lock = NSLock()
    private var entries: [(NodeID, BreakerTransition)] = []

    func append(_ peer: NodeID, _ transition: BreakerTransition) { lock.withLock { entries.append((peer, transition)) } }

    var peers: [NodeID] { lock.withLock { entries.map(\.0) } }
}

/// A log handler that keeps each line (message plus metadata) for assertions.
final class LogCapture: LogHandler, @unchecked Sendable {
    // `@unchecked Sendable`: `lines` is only touched under `lock`; the rest is set up once.
    private let lock = NSLock()
    private var lines: [String] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        lock.withLock { lines.append("\(event.level) \(event.message) \(fields)") }
    }

    var messages: [String] { lock.withLock { lines } }
}
