// swift-tools-version:6.1
import PackageDescription

// Micro-benchmarks (ordo-one/benchmark): ns/op, allocations/op and throughput of the hot
// paths, kept out of the main package so `swift test` never builds them.
//   swift package --package-path Benchmarks benchmark            # every benchmark
//   swift package --package-path Benchmarks benchmark --filter Wire
let package = Package(
    name: "SharedCartBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "SharedCart", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
    ],
    targets: [
        .executableTarget(
            name: "PartitionMapBenchmark",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "CartTypes", package: "SharedCart"),
            ],
            path: "Benchmarks/PartitionMapBenchmark",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "GatewayBenchmark",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "CartGateway", package: "SharedCart"),
                .product(name: "CartTypes", package: "SharedCart"),
            ],
            path: "Benchmarks/GatewayBenchmark",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "WireBenchmark",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "CartTypes", package: "SharedCart"),
                .product(name: "CartWire", package: "SharedCart"),
            ],
            path: "Benchmarks/WireBenchmark",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "RaftBenchmark",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "CartRaft", package: "SharedCart"),
                .product(name: "CartRaftSimulation", package: "SharedCart"),
                .product(name: "CartTypes", package: "SharedCart"),
            ],
            path: "Benchmarks/RaftBenchmark",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "RPCBenchmark",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "CartRPC", package: "SharedCart"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Benchmarks/RPCBenchmark",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "DomainBenchmark",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "CartDomain", package: "SharedCart"),
                .product(name: "CartTypes", package: "SharedCart"),
            ],
            path: "Benchmarks/DomainBenchmark",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "EnvelopeBenchmark",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "CartDomain", package: "SharedCart"),
                .product(name: "CartTypes", package: "SharedCart"),
                .product(name: "CartWire", package: "SharedCart"),
            ],
            path: "Benchmarks/EnvelopeBenchmark",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
