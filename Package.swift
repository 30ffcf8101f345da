// swift-tools-version:6.1
import PackageDescription

// Layers, bottom to top (see README.md "Layout"): a module imports only modules above it here.
let package = Package(
    name: "SharedCart",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "CartTypes", targets: ["CartTypes"]),
        .library(name: "CartDomain", targets: ["CartDomain"]),
    ],
    dependencies: [],
    targets: [
        // Identifiers shared by every layer: Term, LogIndex, NodeID, PartitionID, CartID, …
        .target(name: "CartTypes"),
        .testTarget(name: "CartTypesTests", dependencies: ["CartTypes"]),
        // Carts, items and users as a pure, deterministic partition state machine.
        .target(name: "CartDomain", dependencies: ["CartTypes"], exclude: ["Saga.md", "README.md"]),
        .testTarget(name: "CartDomainTests", dependencies: ["CartDomain", "CartTypes"]),
    ],
    swiftLanguageModes: [.v6]
)
