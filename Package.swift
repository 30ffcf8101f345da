// swift-tools-version:6.1
import PackageDescription

// Layers, bottom to top (see README.md "Layout"): a module imports only modules above it here.
let package = Package(
    name: "SharedCart",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "CartTypes", targets: ["CartTypes"]),
        .library(name: "CartWire", targets: ["CartWire"]),
        .library(name: "CartTLS", targets: ["CartTLS"]),
        .executable(name: "tlsbench", targets: ["tlsbench"]),
        .library(name: "CartRPC", targets: ["CartRPC"]),
        .library(name: "CartLoad", targets: ["CartLoad"]),
        .executable(name: "cartload", targets: ["cartload"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // Identifiers shared by every layer: Term, LogIndex, NodeID, PartitionID, CartID, …
        .target(name: "CartTypes"),
        .testTarget(name: "CartTypesTests", dependencies: ["CartTypes"]),

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
        .testTarget(
            name: "CartRPCTests",
            dependencies: [
                "CartRPC", "CartWire", "CartTLS", "CartTypes",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // Load drivers and latency statistics behind `cartload`.
        .target(
            name: "CartLoad",
            dependencies: [
                "CartRPC", "CartWire", "CartTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .executableTarget(
            name: "cartload",
            dependencies: [
                "CartLoad", "CartRPC", "CartTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
