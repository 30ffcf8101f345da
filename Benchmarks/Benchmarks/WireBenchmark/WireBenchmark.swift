import Benchmark
import CartWire
import Foundation

/// Encode, decode and both, of the representative cart event, three ways in one run:
/// the hand-written fast path (`WireMessage`), the generic Codable path of the same binary
/// format, and Foundation's JSONEncoder/JSONDecoder as the reference point.
let benchmarks: @Sendable () -> Void = {
    let metrics: [BenchmarkMetric] = [.wallClock, .throughput, .mallocCountTotal]
    let configuration = Benchmark.Configuration(metrics: metrics, maxDuration: .seconds(2), maxIterations: 20_000)
    let event = BenchCartEvent.sample
    let credit = BenchCredit(stream: 7, count: 64, reason: "window")

    // MARK: fast path

    Benchmark("Wire.fast.encode(cartEvent)", configuration: configuration) { benchmark in
        var buffer = [UInt8](); buffer.reserveCapacity(1024)
        for _ in benchmark.scaledIterations {
            buffer.removeAll(keepingCapacity: true)
            try BinaryEncoder().encode(event, into: &buffer)
            blackHole(buffer)
        }
    }

    Benchmark("Wire.fast.decode(cartEvent)", configuration: configuration) { benchmark in
        let bytes = try BinaryEncoder().encode(event)
        for _ in benchmark.scaledIterations {
            blackHole(try BinaryDecoder().decode(BenchCartEvent.self, from: bytes))
        }
    }

    Benchmark("Wire.fast.roundTrip(cartEvent)", configuration: configuration) { benchmark in
        var buffer = [UInt8](); buffer.reserveCapacity(1024)
        for _ in benchmark.scaledIterations {
            buffer.removeAll(keepingCapacity: true)
            try BinaryEncoder().encode(event, into: &buffer)
            blackHole(try BinaryDecoder().decode(BenchCartEvent.self, from: buffer))
        }
    }

    Benchmark("Wire.fast.encode(flatMessage) into reused buffer", configuration: configuration) { benchmark in
        var buffer = [UInt8](); buffer.reserveCapacity(256)
        for _ in benchmark.scaledIterations {
            buffer.removeAll(keepingCapacity: true)
            try BinaryEncoder().encode(credit, into: &buffer)
            blackHole(buffer)
        }
    }

    // MARK: generic Codable path (same bytes)

    Benchmark("Wire.codable.encode(cartEvent)", configuration: configuration) { benchmark in
        var buffer = [UInt8](); buffer.reserveCapacity(1024)
        for _ in benchmark.scaledIterations {
            buffer.removeAll(keepingCapacity: true)
            try codableEncode(event, into: &buffer)
            blackHole(buffer)
        }
    }

    Benchmark("Wire.codable.decode(cartEvent)", configuration: configuration) { benchmark in
        let bytes = try BinaryEncoder().encode(event)
        for _ in benchmark.scaledIterations {
            blackHole(try codableDecode(BenchCartEvent.self, from: bytes))
        }
    }

    Benchmark("Wire.codable.roundTrip(cartEvent)", configuration: configuration) { benchmark in
        var buffer = [UInt8](); buffer.reserveCapacity(1024)
        for _ in benchmark.scaledIterations {
            buffer.removeAll(keepingCapacity: true)
            try codableEncode(event, into: &buffer)
            blackHole(try codableDecode(BenchCartEvent.self, from: buffer))
        }
    }

    Benchmark("Wire.codable.encode(flatMessage) into reused buffer", configuration: configuration) { benchmark in
        var buffer = [UInt8](); buffer.reserveCapacity(256)
        for _ in benchmark.scaledIterations {
            buffer.removeAll(keepingCapacity: true)
            try codableEncode(credit, into: &buffer)
            blackHole(buffer)
        }
    }

    // MARK: Foundation JSON, for comparison

    Benchmark("Wire.json.encode(cartEvent)", configuration: configuration) { benchmark in
        let encoder = JSONEncoder()
        for _ in benchmark.scaledIterations {
            blackHole(try encoder.encode(event))
        }
    }

    Benchmark("Wire.json.decode(cartEvent)", configuration: configuration) { benchmark in
        let data = try JSONEncoder().encode(event)
        let decoder = JSONDecoder()
        for _ in benchmark.scaledIterations {
            blackHole(try decoder.decode(BenchCartEvent.self, from: data))
        }
    }

    Benchmark("Wire.json.roundTrip(cartEvent)", configuration: configuration) { benchmark in
        let encoder = JSONEncoder()
        let decoder = JSONDecoder()
        for _ in benchmark.scaledIterations {
            blackHole(try decoder.decode(BenchCartEvent.self, from: try encoder.encode(event)))
        }
    }
}

/// Through these the static type is only `Encodable`/`Decodable`, so the generic Codable
/// path runs even for `WireMessage` types.
@inline(never)
func codableEncode<T: Encodable>(_ value: T, into bytes: inout [UInt8]) throws {
    try BinaryEncoder().encode(value, into: &bytes)
}

@inline(never)
func codableDecode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
    try BinaryDecoder().decode(type, from: bytes)
}
