// swift-tools-version:6.1
import PackageDescription

// Layers, bottom to top (see README.md "Layout"): a module imports only modules above it here.
let package = Package(
    name: "SharedCart",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "CartTypes", targets: ["CartTypes"]),
        .library(name: "CartStorage", targets: ["CartStorage"]),
        .executable(name: "storagebench", targets: ["storagebench"]),
        .library(name: "CartTLS", targets: ["CartTLS"]),
        .executable(name: "tlsbench", targets: ["tlsbench"]),
        .library(name: "CartGateway", targets: ["CartGateway"]),
        .library(name: "CartWire", targets: ["CartWire"]),
        .library(name: "CartRaft", targets: ["CartRaft"]),
        .library(name: "CartRaftSimulation", targets: ["CartRaftSimulation"]),
        .library(name: "CartRPC", targets: ["CartRPC"]),
        .library(name: "CartLoad", targets: ["CartLoad"]),
        .executable(name: "cartload", targets: ["cartload"]),
        .library(name: "CartDomain", targets: ["CartDomain"]),
        .library(name: "CartAPI", targets: ["CartAPI"]),
        .library(name: "CartClient", targets: ["CartClient"]),
        .executable(name: "cartctl", targets: ["cartctl"]),
        .library(name: "CartNode", targets: ["CartNode"]),
        .executable(name: "cartd", targets: ["cartd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),

        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
    ],
    targets: [
        // Identifiers shared by every layer: Term, LogIndex, NodeID, PartitionID, CartID, …
        .target(name: "CartTypes"),
        .testTarget(name: "CartTypesTests", dependencies: ["CartTypes"]),
        // Durable per-partition Raft log, hard state and snapshots on local files.
        .target(name: "CartStorage", dependencies: ["CartTypes", .product(name: "Logging", package: "swift-log")],
                exclude: ["README.md"]),
        .testTarget(name: "CartStorageTests", dependencies: ["CartStorage"]),
        // Disk benchmark for CartStorage: appends/s, MB/s, syncs per append vs the disk's sync latency.
        .executableTarget(name: "storagebench", dependencies: ["CartStorage", .product(name: "Logging", package: "swift-log")]),

        // The system OpenSSL 3 (libssl, libcrypto) and wrappers for what Swift cannot call.
        .target(
            name: "COpenSSLShim",
            linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]
        ),
        // TLS contexts from PEM files, the OpenSSL channel handler, peer identity, crypto helpers.
        .target(
            name: "CartTLS",
            dependencies: [
                "COpenSSLShim",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "CartTLSTests",
            dependencies: [
                "CartTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            exclude: ["make-test-pki"]
        ),
        // Loopback throughput, ping-pong and handshake rates: TLS beside plain TCP.
        .executableTarget(
            name: "tlsbench",
            dependencies: [
                "CartTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),

        // Between the RPC layer and the node: tokens and password hashes, rate limits, circuit
        // breakers and concurrency caps per peer, leader cache and retry policy. Pure decisions
        // that take the time as an input; no event loops.
        .target(
            name: "CartGateway",
            dependencies: [
                "CartTypes",
                "CartTLS",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "CartGatewayTests",
            dependencies: [
                "CartGateway",
                "CartTypes",
                "CartTLS",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The bytes on the wire: binary Codable encoding, frames, envelope, error codes, methods.
        .target(
            name: "CartWire",
            dependencies: [
                "CartTypes",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "CartWireTests",
            dependencies: [
                "CartWire",
                "CartTypes",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        // The pure Raft core: no clock, IO, threads or async.
        .target(name: "CartRaft", dependencies: ["CartTypes"]),
        // Deterministic, seeded, fault-injecting simulator of a Raft group (test support).
        .target(name: "CartRaftSimulation", dependencies: ["CartRaft", "CartTypes"]),
        .executableTarget(name: "raft-sim", dependencies: ["CartRaftSimulation"]),
        .testTarget(name: "CartRaftTests", dependencies: ["CartRaft", "CartRaftSimulation", "CartTypes"]),

        // RPC server and client over CartTLS and CartWire: hello, dispatch, deadlines,
        // cancellation, credit-flow server streams, keepalive, drain, reconnect.
        .target(
            name: "CartRPC",
            dependencies: [
                "CartTypes", "CartWire", "CartTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Helpers shared by the test targets that run real servers: a throwaway PKI from
        // tools/gen-certs, bounded polling, RPC error assertions, captured logs.
        .target(
            name: "CartTestSupport",
            dependencies: ["CartRPC", "CartWire", .product(name: "Logging", package: "swift-log")],
            path: "Tests/CartTestSupport"
        ),
        .testTarget(
            name: "CartRPCTests",
            dependencies: [
                "CartRPC", "CartWire", "CartTLS", "CartTypes", "CartTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // Load drivers and latency statistics behind `cartload`.
        .target(
            name: "CartLoad",
            dependencies: [
                "CartRPC", "CartWire", "CartTLS", "CartClient", "CartTypes", "CartDomain", "CartGateway", "CartRaft",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .testTarget(
            name: "CartLoadTests",
            dependencies: [
                "CartLoad", "CartClient", "CartAPI", "CartDomain", "CartRPC", "CartRaft", "CartTypes", "CartWire",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "cartload",
            dependencies: [
                "CartLoad", "CartRPC", "CartTLS", "CartClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Carts, items and users as a pure, deterministic partition state machine.
        .target(name: "CartDomain", dependencies: ["CartTypes", "CartWire"], exclude: ["Saga.md", "README.md"]),
        .testTarget(name: "CartDomainTests", dependencies: ["CartDomain", "CartTypes", "CartWire"]),

        // Every client- and peer-facing method: ids, names, request and response types.
        .target(
            name: "CartAPI",
            dependencies: ["CartRPC", "CartDomain", "CartRaft", "CartWire", "CartTypes"]
        ),
        .testTarget(
            name: "CartAPITests",
            dependencies: [
                "CartAPI", "CartRPC", "CartDomain", "CartRaft", "CartWire", "CartTypes",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // resumable watches. Used by cartctl, cartload and the cluster tests.
        .target(
            name: "CartClient",
            dependencies: [
                "CartAPI", "CartRPC", "CartWire", "CartTLS", "CartTypes", "CartDomain", "CartGateway",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "CartClientTests",
            dependencies: [
                "CartClient", "CartAPI", "CartRPC", "CartWire", "CartTypes", "CartDomain",
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Real cartd processes on loopback: failover, catch-up, watches, permissions.
        .testTarget(
            name: "CartClusterTests",
            dependencies: ["CartClient", "CartAPI", "CartDomain", "CartTypes", "CartTLS", "CartGateway", "CartWire", "CartTestSupport"]
        ),
        // `cartctl`: every service operation from the command line.
        .executableTarget(
            name: "cartctl",
            dependencies: [
                "CartClient", "CartAPI", "CartDomain", "CartTypes", "CartTLS", "CartGateway", "CartWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // One node: partition replicas, peer transport, services, gateway, saga.
        .target(
            name: "CartNode",
            dependencies: [
                "CartAPI", "CartGateway", "CartRPC", "CartDomain", "CartRaft", "CartStorage", "CartTLS", "CartWire", "CartTypes",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Atomics", package: "swift-atomics"),
            ],
            exclude: ["README.md"]
        ),
        .testTarget(
            name: "CartNodeTests",
            dependencies: [
                "CartNode", "CartAPI", "CartRPC", "CartDomain", "CartTLS", "CartWire", "CartTypes", "CartTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The node daemon: flags or a JSON config file, logging, graceful shutdown on signals.
        // It allocates through jemalloc (libjemalloc-dev), as Redis does: a replicated write
        // allocates on the event loop and frees on the journal and sync threads, and glibc's
        // arenas spend ~6 % more of the node's CPU on that than jemalloc does.
        .executableTarget(
            name: "cartd",
            dependencies: [
                "CartNode", "CartTypes",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            linkerSettings: [.linkedLibrary("jemalloc", .when(platforms: [.linux]))]
        ),
        // A quick addItem load against running nodes, for tuning (the benchmark of record is cartload).
        .executableTarget(name: "nodebench", dependencies: ["CartAPI", "CartDomain", "CartRPC", "CartTLS", "CartTypes",
                                                            .product(name: "NIOConcurrencyHelpers", package: "swift-nio")]),
    ],
    swiftLanguageModes: [.v6]
)

// Release builds optimize across this package's modules (the wire codecs, Raft core and domain
// are called through module boundaries on every request) and leave out the run-time
// exclusivity checks; debug builds, which the tests use, keep them.
for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + [
        .unsafeFlags(["-cross-module-optimization", "-enforce-exclusivity=unchecked"], .when(configuration: .release)),
    ]
}
