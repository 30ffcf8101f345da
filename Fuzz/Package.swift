// swift-tools-version:6.1
import PackageDescription

// libFuzzer target over CartWire's frame and message decoding, kept out of the main package
// because every module it links must be built with the fuzzer sanitizer:
//   tools/fuzz-wire                        # build (flags inside) and fuzz until stopped
//   tools/fuzz-wire -max_total_time=30     # bounded run
// tools/ci.d/20-fuzz-wire-smoke runs it for 30 s in CI.
let package = Package(
    name: "SharedCartFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "SharedCart", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
    ],
    targets: [
        .executableTarget(
            name: "FuzzWire",
            dependencies: [
                .product(name: "CartWire", package: "SharedCart"),
                .product(name: "CartTypes", package: "SharedCart"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
