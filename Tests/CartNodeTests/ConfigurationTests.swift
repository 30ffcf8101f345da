@testable import CartNode
import CartTypes
import Foundation
import XCTest

/// `cartd --config` files: the minimum, the defaults, and what a bad file gets.
final class ConfigurationTests: XCTestCase {
    private func write(_ json: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cartd-\(UUID().uuidString).json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    // An operator writes only the required keys and the members; everything else keeps its
    // default (16 partitions, replication 3, fsync on).
    func testMinimalFileKeepsDefaults() throws {
        let path = try write("""
        {"nodeID": 2, "dataDirectory": "/var/lib/cartd", "certificatePath": "c.pem", "privateKeyPath": "k.pem",
         "trustedCAPath": "ca.pem", "clientPort": 7402, "peerPort": 7502,
         "members": [{"id": 1, "peerAddress": "127.0.0.1:7501", "clientAddress": "127.0.0.1:7401"},
                     {"id": 2, "peerAddress": "127.0.0.1:7502", "clientAddress": "127.0.0.1:7402"}]}
        """)
        let configuration = try NodeConfiguration.load(path: path)
        XCTAssertEqual(configuration.nodeID, 2)
        XCTAssertEqual(configuration.partitionCount, 16)
        XCTAssertEqual(configuration.replicationFactor, 3)
        XCTAssertTrue(configuration.fsync)
        XCTAssertFalse(configuration.devIdentities)
        XCTAssertEqual(configuration.members.count, 2)
        XCTAssertNoThrow(try configuration.validate())
    }

    // A file without a node id, or a member list that leaves this node out, is a typed
    // configuration error naming the problem, not a crash.
    func testBadFilesAreTypedErrors() throws {
        let missing = try write(#"{"dataDirectory": "/d", "certificatePath": "c", "privateKeyPath": "k", "trustedCAPath": "ca"}"#)
        XCTAssertThrowsError(try NodeConfiguration.load(path: missing)) { error in
            XCTAssertEqual((error as? NodeError)?.code, .configuration)
        }
        let outside = try write("""
        {"nodeID": 5, "dataDirectory": "/d", "certificatePath": "c", "privateKeyPath": "k", "trustedCAPath": "ca",
         "members": [{"id": 1, "peerAddress": "127.0.0.1:7501", "clientAddress": "127.0.0.1:7401"}]}
        """)
        XCTAssertThrowsError(try NodeConfiguration.load(path: outside).validate()) { error in
            XCTAssertTrue("\(error)".contains("members must include this node"), "\(error)")
        }
    }

    // The snapshot transfer, checkout and segment keys come from the file too, and a piece
    // size that would not fit a peer frame, or a segment too small for an entry, is a typed error.
    func testSnapshotTransferAndCheckoutKeys() throws {
        let members = #"[{"id": 1, "peerAddress": "127.0.0.1:7501", "clientAddress": "127.0.0.1:7401"}]"#
        let path = try write("""
        {"nodeID": 1, "dataDirectory": "/d", "certificatePath": "c", "privateKeyPath": "k", "trustedCAPath": "ca",
         "members": \(members), "snapshotChunkBytes": 65536, "snapshotTransferBytesMax": 268435456,
         "sagaStepRetryWindowMs": 9000, "checkoutSweepIntervalMs": 2500, "segmentBytesMax": 8388608}
        """)
        let configuration = try NodeConfiguration.load(path: path)
        XCTAssertEqual(configuration.segmentBytesMax, 8 << 20)
        XCTAssertEqual(configuration.snapshotChunkBytes, 65_536)
        XCTAssertEqual(configuration.snapshotTransferBytesMax, 256 << 20)
        XCTAssertEqual(configuration.sagaStepRetryWindowMs, 9_000)
        XCTAssertEqual(configuration.checkoutSweepIntervalMs, 2_500)
        XCTAssertNoThrow(try configuration.validate())

        let tooLarge = try write("""
        {"nodeID": 1, "dataDirectory": "/d", "certificatePath": "c", "privateKeyPath": "k", "trustedCAPath": "ca",
         "members": \(members), "snapshotChunkBytes": 33554432}
        """)
        XCTAssertThrowsError(try NodeConfiguration.load(path: tooLarge).validate()) { error in
            XCTAssertTrue("\(error)".contains("snapshotChunkBytes"), "\(error)")
        }
        // A segment must hold the largest entry (1 MiB).
        let smallSegments = try write("""
        {"nodeID": 1, "dataDirectory": "/d", "certificatePath": "c", "privateKeyPath": "k", "trustedCAPath": "ca",
         "members": \(members), "segmentBytesMax": 1048576}
        """)
        XCTAssertThrowsError(try NodeConfiguration.load(path: smallSegments).validate()) { error in
            XCTAssertTrue("\(error)".contains("segmentBytesMax"), "\(error)")
        }
    }

    // The contact window is two election timeouts unless the file sets it; less than one
    // election timeout is a typed error.
    func testContactWindowDefaultsToTwoElectionTimeoutsAndCanBeSet() throws {
        let members = #"[{"id": 1, "peerAddress": "127.0.0.1:7501", "clientAddress": "127.0.0.1:7401"}]"#
        let common = #""nodeID": 1, "dataDirectory": "/d", "certificatePath": "c", "privateKeyPath": "k", "trustedCAPath": "ca""#
        let byDefault = try NodeConfiguration.load(path: try write("""
        {\(common), "members": \(members), "tickIntervalMs": 40, "electionTimeoutTicks": 12}
        """))
        XCTAssertNil(byDefault.contactWindowMs)
        XCTAssertEqual(byDefault.effectiveContactWindowMs, 960)

        let set = try NodeConfiguration.load(path: try write("""
        {\(common), "members": \(members), "contactWindowMs": 4000}
        """))
        XCTAssertEqual(set.effectiveContactWindowMs, 4_000)
        XCTAssertNoThrow(try set.validate())

        let tooShort = try write("""
        {\(common), "members": \(members), "tickIntervalMs": 50, "electionTimeoutTicks": 10, "contactWindowMs": 499}
        """)
        XCTAssertThrowsError(try NodeConfiguration.load(path: tooShort).validate()) { error in
            XCTAssertTrue("\(error)".contains("contactWindowMs"), "\(error)")
        }
    }

    // Placement: with three nodes and replication 3 every node hosts every partition; with
    // five, each partition has three distinct replicas and the load is even.
    func testPlacementIsDeterministicAndEven() {
        let three = Placement(partitionCount: 16, nodes: [3, 1, 2], replicationFactor: 3)
        XCTAssertEqual(three.partitions(hostedBy: 1).count, 16)
        let five = Placement(partitionCount: 16, nodes: [1, 2, 3, 4, 5], replicationFactor: 3)
        for partition in five.partitions { XCTAssertEqual(Set(five.replicas(of: partition)).count, 3) }
        let hosted = (1...5).map { five.partitions(hostedBy: NodeID(UInt64($0))).count }
        XCTAssertEqual(hosted.reduce(0, +), 48)
        XCTAssertLessThanOrEqual(hosted.max()! - hosted.min()!, 1)
        XCTAssertEqual(five.replicas(of: 7), Placement(partitionCount: 16, nodes: [5, 4, 3, 2, 1], replicationFactor: 3).replicas(of: 7))
    }
}
