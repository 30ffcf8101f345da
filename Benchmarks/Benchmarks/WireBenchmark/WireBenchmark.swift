import Benchmark
import CartWire
import Foundation

let benchmarks: @Sendable () -> Void = {
    let metrics: [BenchmarkMetric] = [.wallClock, .throughput, .mallocCountTotal]
    let configuration = Benchmark.Configuration(metrics: metrics, scalingFactor: .kilo,
                                                maxDuration: .seconds(2), maxIterations: 100_000)
    let event = BenchCartEvent.sample

    Benchmark("Wire.binary.encode(cartEvent)", configuration: configuration) { benchmark in
        let encoder = BinaryEncoder()
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1024)
        for _ in benchmark.scaledIterations {
            buffer.removeAll(keepingCapacity: true)
            try encoder.encode(event, into: &buffer)
            blackHole(buffer)
        }
    }

    Benchmark("Wire.binary.decode(cartEvent)", configuration: configuration) { benchmark in
        let bytes = try BinaryEncoder().encode(event)
        let decoder = BinaryDecoder()
        for _ in benchmark.scaledIterations {
            blackHole(try decoder.decode(BenchCartEvent.self, from: bytes))
        }
    }

    Benchmark("Wire.binary.roundTrip(cartEvent)", configuration: configuration) { benchmark in
        let encoder = BinaryEncoder()
        let decoder = BinaryDecoder()
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1024)
        for _ in benchmark.scaledIterations {
            buffer.removeAll(keepingCapacity: true)
            try encoder.encode(event, into: &buffer)
            blackHole(try decoder.decode(BenchCartEvent.self, from: buffer))
        }
    }

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

    Benchmark("Wire.binary.encode(flatMessage) into reused buffer",
              configuration: .init(metrics: metrics, scalingFactor: .kilo, maxDuration: .seconds(2))) { benchmark in
        let encoder = BinaryEncoder()
        let credit = BenchCredit(stream: 7, count: 64, reason: "window")
        var buffer: [UInt8] = []
        buffer.reserveCapacity(256)
        for _ in benchmark.scaledIterations {
            buffer.removeAll(keepingCapacity: true)
            try encoder.encode(credit, into: &buffer)
            blackHole(buffer)
        }
    }
}
