@testable import CartClient
import CartTypes
import CartWire
import XCTest

/// Leaders name themselves in every reply. Routing skips the work for a hint that repeats
/// what it knows, and must still take in every hint that says something new.
final class LeaderHintLearningTests: XCTestCase {
    let first = Endpoint(host: "127.0.0.1", port: 7401)
    let second = Endpoint(host: "127.0.0.1", port: 7402)
    let partition = PartitionID(3)

    // Story: node 1 answers as leader of partition 3, again and again; then it moves to a
    // new address, then node 2 takes over. Each step is what the next request uses.
    func testRepeatedSelfHintsKeepTheLeaderAndNewHintsStillMoveIt() {
        let routing = ClusterRouting(endpoints: [first])
        for _ in 0..<3 {
            routing.learn(LeaderHint(nodeID: NodeID(1), address: "127.0.0.1:7401"), for: partition, askedNode: nil)
            XCTAssertEqual(routing.leaderEndpoint(of: partition), first)
        }
        routing.learn(LeaderHint(nodeID: NodeID(1), address: "127.0.0.1:7501"), for: partition, askedNode: NodeID(1))
        XCTAssertEqual(routing.leaderEndpoint(of: partition), Endpoint(host: "127.0.0.1", port: 7501))
        routing.learn(LeaderHint(nodeID: NodeID(2), address: "127.0.0.1:7402"), for: partition, askedNode: NodeID(1))
        XCTAssertEqual(routing.leaderEndpoint(of: partition), second)
        XCTAssertEqual(routing.node(at: second), NodeID(2))
    }

    // Story: node 1 led, went back to its old address after moving; the repeated text of
    // its first hint must not be taken as "already recorded".
    func testAHintReturningToAnEarlierAddressIsRecordedAgain() {
        let routing = ClusterRouting(endpoints: [first])
        routing.learn(LeaderHint(nodeID: NodeID(1), address: "127.0.0.1:7401"), for: partition, askedNode: nil)
        routing.learn(LeaderHint(nodeID: NodeID(1), address: "127.0.0.1:7402"), for: partition, askedNode: nil)
        routing.learn(LeaderHint(nodeID: NodeID(1), address: "127.0.0.1:7401"), for: partition, askedNode: nil)
        XCTAssertEqual(routing.leaderEndpoint(of: partition), first)
        XCTAssertEqual(routing.node(at: first), NodeID(1))
    }

    // Story: a hint whose address cannot be read teaches nothing, even for the cached leader.
    func testAnUnreadableHintChangesNothing() {
        let routing = ClusterRouting(endpoints: [first])
        routing.learn(LeaderHint(nodeID: NodeID(1), address: "127.0.0.1:7401"), for: partition, askedNode: nil)
        routing.learn(LeaderHint(nodeID: NodeID(1), address: "no port"), for: partition, askedNode: nil)
        XCTAssertEqual(routing.leaderEndpoint(of: partition), first)
    }

    // Story: node 2 was found unreachable (hung, or refusing connections). Requests with no
    // known leader go round the other nodes only; a request that also avoids node 1 (it just
    // failed there) still prefers any node to none; with every node unreachable, the round
    // goes on as before.
    func testRoundRobinLeavesUnreachableNodesOut() {
        let third = Endpoint(host: "127.0.0.1", port: 7403)
        let routing = ClusterRouting(endpoints: [first, second, third])
        let picks = (0..<6).map { _ in routing.nextEndpoint(avoiding: [], isUnreachable: { $0 == self.second }) }
        XCTAssertEqual(picks.filter { $0 == first }.count, 3, "\(picks)")
        XCTAssertEqual(picks.filter { $0 == third }.count, 3, "the skipped node's share is split evenly: \(picks)")
        XCTAssertEqual(routing.nextEndpoint(avoiding: [first, third], isUnreachable: { $0 == self.second }), second)
        let all = (0..<3).map { _ in routing.nextEndpoint(avoiding: [], isUnreachable: { _ in true }) }
        XCTAssertEqual(Set(all), [first, second, third])
    }
}
