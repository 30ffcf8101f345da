// swift-tools-version:6.1
import PackageDescription

// libFuzzer target over CartWire's frame and message decoding, kept out of the main package
// because every module it links must be built with the fuzzer sanitizer:
//   swift build --package-path Fuzz -c release --sanitize=fuzzer --sanitize=address
//   Fuzz/.build/release/FuzzWire -max_total_time=30 Fuzz/Corpus
// tools/fuzz-wire does both; tools/ci.d/20-fuzz-wire-smoke runs it briefly in CI.
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
