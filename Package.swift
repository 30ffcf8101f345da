// swift-tools-version:6.1
import PackageDescription

// Layers, bottom to top (see README.md "Layout"): a module imports only modules above it here.
let package = Package(
    name: "SharedCart",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "CartTypes", targets: ["CartTypes"]),
        .library(name: "CartRaft", targets: ["CartRaft"]),
        .library(name: "CartRaftSimulation", targets: ["CartRaftSimulation"]),
    ],
    dependencies: [],
    targets: [
        // Identifiers shared by every layer: Term, LogIndex, NodeID, PartitionID, CartID, …
        .target(name: "CartTypes"),
        .testTarget(name: "CartTypesTests", dependencies: ["CartTypes"]),
        // The pure Raft core: no clock, IO, threads or async.
        .target(name: "CartRaft", dependencies: ["CartTypes"]),
        // Deterministic, seeded, fault-injecting simulator of a Raft group (test support).
        .target(name: "CartRaftSimulation", dependencies: ["CartRaft", "CartTypes"]),
        .executableTarget(name: "raft-sim", dependencies: ["CartRaftSimulation"]),
        .testTarget(name: "CartRaftTests", dependencies: ["CartRaft", "CartRaftSimulation", "CartTypes"]),
    ],
    swiftLanguageModes: [.v6]
)
