// swift-tools-version:6.1
import PackageDescription

// Layers, bottom to top (see README.md "Layout"): a module imports only modules above it here.
let package = Package(
    name: "SharedCart",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "CartTypes", targets: ["CartTypes"]),
    ],
    dependencies: [],
    targets: [
        // Identifiers shared by every layer: Term, LogIndex, NodeID, PartitionID, CartID, …
        .target(name: "CartTypes"),
        .testTarget(name: "CartTypesTests", dependencies: ["CartTypes"]),
    ],
    swiftLanguageModes: [.v6]
)
