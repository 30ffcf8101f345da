import Atomics
import CartRPC
import CartWire
import NIOConcurrencyHelpers
import NIOCore

/// The client port's calls by method: how many ended with each code (`ok`, or the error's
/// name) and how long they took, for `/metrics` as `cart_rpc_calls_total{method,code}` and
/// the histogram `cart_rpc_call_seconds{method}`. Each method's counters are made when the
/// method is registered; a call costs a clock read and three relaxed atomic adds.
final class CallMetrics: Sendable {
    /// Upper bounds of the latency buckets, in seconds (Prometheus `le`), then `+Inf`.
    static let bucketBounds: [Double] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

    private let methods = NIOLockedValueBox<[MethodCalls]>([])

    /// The counters of `method` (made once per method, before the servers start).
    func track(_ method: String) -> MethodCalls {
        let calls = MethodCalls(method)
        methods.withLockedValue { $0.append(calls) }
        return calls
    }

    func prometheusText() -> String {
        let methods = self.methods.withLockedValue { $0 }
        var text = NodeMetrics.family("cart_rpc_calls_total", "counter", "Client calls by method and outcome (ok, or the error code).")
        for method in methods {
            for (code, count) in method.countsByCode where count > 0 {
                text += "cart_rpc_calls_total{method=\"\(method.name)\",code=\"\(code)\"} \(count)\n"
            }
        }
        text += NodeMetrics.family("cart_rpc_call_seconds", "histogram", "Time from a client call's arrival to its answer, by method.")
        for method in methods {
            let (buckets, count, sumNanos) = method.latency
            guard count > 0 else { continue }
            var cumulative: UInt64 = 0
            for (bound, inBucket) in zip(Self.bucketBounds.map { "\($0)" } + ["+Inf"], buckets) {
                cumulative += inBucket
                text += "cart_rpc_call_seconds_bucket{method=\"\(method.name)\",le=\"\(bound)\"} \(cumulative)\n"
            }
            text += "cart_rpc_call_seconds_sum{method=\"\(method.name)\"} \(Double(sumNanos) / 1e9)\n"
            text += "cart_rpc_call_seconds_count{method=\"\(method.name)\"} \(count)\n"
        }
        return text
    }
}

/// One method's counters (`CallMetrics`).
final class MethodCalls: Sendable {
    let name: String
    /// Index 0: ok; then one per `ErrorCode.known`; last: codes this version does not know.
    private let byCode: [ManagedAtomic<UInt64>]
    /// One per `CallMetrics.bucketBounds`, then `+Inf`; each counts its own calls only.
    private let buckets: [ManagedAtomic<UInt64>]
    private let sumNanos = ManagedAtomic<UInt64>(0)

    init(_ name: String) {
        self.name = name
        byCode = (0..<ErrorCode.known.count + 2).map { _ in ManagedAtomic(0) }
        buckets = (0...CallMetrics.bucketBounds.count).map { _ in ManagedAtomic(0) }
    }

    /// One call that started at `start` ended now, with `error`'s code or ok.
    func record(_ error: (any Error)?, since start: NIODeadline) {
        let nanos = UInt64(max(0, (NIODeadline.now() - start).nanoseconds))
        let codeIndex: Int
        if let error {
            let code = (error as? RPCError)?.code ?? (error is CancellationError ? .cancelled : .internal)
            codeIndex = ErrorCode.known.firstIndex(of: code).map { $0 + 1 } ?? ErrorCode.known.count + 1
        } else {
            codeIndex = 0
        }
        byCode[codeIndex].wrappingIncrement(ordering: .relaxed)
        let seconds = Double(nanos) / 1e9
        let bucket = CallMetrics.bucketBounds.firstIndex { seconds <= $0 } ?? CallMetrics.bucketBounds.count
        buckets[bucket].wrappingIncrement(ordering: .relaxed)
        sumNanos.wrappingIncrement(by: nanos, ordering: .relaxed)
    }

    /// One call that started at `start` ended now with `result`.
    func record<Response>(_ result: Result<Response, any Error>, since start: NIODeadline) {
        if case .failure(let error) = result { record(error, since: start) } else { record(nil, since: start) }
    }

    var countsByCode: [(code: String, count: UInt64)] {
        byCode.enumerated().map { index, count in
            let code = index == 0 ? "ok" : index <= ErrorCode.known.count ? ErrorCode.known[index - 1].name : "other"
            return (code, count.load(ordering: .relaxed))
        }
    }

    /// Calls per bucket (not cumulative), their count and their summed time.
    var latency: (buckets: [UInt64], count: UInt64, sumNanos: UInt64) {
        let buckets = self.buckets.map { $0.load(ordering: .relaxed) }
        return (buckets, buckets.reduce(0, +), sumNanos.load(ordering: .relaxed))
    }
}
