import Benchmark
import CartDomain
import CartTypes
import CartWire

// The Raft log entry of the hottest write, an addItem envelope with its request key, encoded
// and decoded the way the node does it (a fresh array per entry): the generic Codable path
// the node used before, and the hand-written path (`logEntryBytes` / `init(logEntryBytes:)`)
// it uses now. Both produce the same bytes (CartDomainTests prove it).
//   swift package --package-path Benchmarks benchmark --filter 'Envelope.*'
let benchmarks: @Sendable () -> Void = {
    let metrics: [BenchmarkMetric] = [.wallClock, .throughput, .mallocCountTotal]
    let configuration = Benchmark.Configuration(metrics: metrics, maxDuration: .seconds(2), maxIterations: 50_000)
    let envelope = CommandEnvelope(
        .addItem(AddItem(cart: "0b6f2f4e-8d1c-4a57-9a3e-5c2d7e9f1a44", actor: "user-00042", item: "sku-1234",
                         quantity: 1, unitPrice: Money(minorUnits: 1_999))),
        at: Timestamp(millisecondsSinceEpoch: 1_764_000_000_000),
        request: RequestKey(client: ClientID(0x5eed_cafe), request: RequestID(123_456)))

    Benchmark("Envelope.codable.encode(addItem)", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try codableEncode(envelope))
        }
    }

    Benchmark("Envelope.fast.encode(addItem)", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try envelope.logEntryBytes())
        }
    }

    Benchmark("Envelope.codable.decode(addItem)", configuration: configuration) { benchmark in
        let bytes = try envelope.logEntryBytes()
        for _ in benchmark.scaledIterations {
            blackHole(try codableDecode(CommandEnvelope.self, from: bytes))
        }
    }

    Benchmark("Envelope.fast.decode(addItem)", configuration: configuration) { benchmark in
        let bytes = try envelope.logEntryBytes()
        for _ in benchmark.scaledIterations {
            blackHole(try CommandEnvelope(logEntryBytes: bytes))
        }
    }
}

/// Through these the static type is only `Encodable`/`Decodable`, so the generic Codable
/// path runs although `CommandEnvelope` is a `WireMessage`.
@inline(never)
func codableEncode<T: Encodable>(_ value: T) throws -> [UInt8] {
    try BinaryEncoder().encode(value)
}

@inline(never)
func codableDecode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
    try BinaryDecoder().decode(type, from: bytes)
}
