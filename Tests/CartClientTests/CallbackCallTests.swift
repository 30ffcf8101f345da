import CartAPI
import CartClient
import CartDomain
import CartRPC
import CartTypes
import CartWire
import XCTest

/// The client's calls with a completion instead of `await` (what cartload's workers use):
/// the same keys, retries and refusals as the `async` calls, through one callback.
final class CallbackCallTests: XCTestCase {
    private var node: FakeNode?
    private var client: CartClient?

    override func tearDown() async throws {
        await client?.shutdown()
        await node?.shutdown()
    }

    private func start(_ answer: @escaping @Sendable (Int) throws -> CartWriteReply) async throws -> (FakeNode, CartClient) {
        let node = FakeNode()
        node.onAddItem(answer)
        try await node.start()
        let client = CartClient(configuration: .test([node.endpoint]))
        self.node = node
        self.client = client
        return (node, client)
    }

    private func addItem(_ client: CartClient) async -> Result<CartWriteReply, CartClientError> {
        await withCheckedContinuation { continuation in
            client.addItem("cart-1", item: "sku-1", quantity: 1) { continuation.resume(returning: $0) }
        }
    }

    // Story: the first add connects (no connection is ready yet); the second goes out on the
    // ready connection, meets "unavailable", and its retry carries its own key again.
    func testACallbackAddIsRetriedWithItsOwnKeyAfterAnUnavailableNode() async throws {
        let (node, client) = try await start { call in
            if call == 1 { throw RPCError(.unavailable, "no quorum yet", retryAfterMs: 5) }
            return CartWriteReply(cart: "cart-1", version: Version(UInt64(call)), seq: Seq(UInt64(call)))
        }
        let first = await addItem(client)
        XCTAssertEqual(try first.get().seq, 0)
        let second = await addItem(client)
        XCTAssertEqual(try second.get().seq, 2)
        let keys = node.addItemKeys
        XCTAssertEqual(keys.count, 3)
        XCTAssertNotEqual(keys[0], keys[1], "two operations, two keys")
        XCTAssertEqual(keys[1], keys[2], "a retry repeats its operation's key")
    }

    // Story: the node refuses the second add (the cart is gone). A refusal is the answer, not
    // a reason to try again: the callback gets it after one attempt, as the server wrote it.
    func testACallbackRefusalIsNotRetried() async throws {
        let (node, client) = try await start { call in
            if call == 1 { throw RPCError(.notFound, "no cart cart-1") }
            return CartWriteReply(cart: "cart-1", version: Version(1), seq: Seq(1))
        }
        _ = try await addItem(client).get()
        let refused = await addItem(client)
        guard case .failure(let error) = refused else { return XCTFail("the refusal must reach the callback") }
        XCTAssertEqual(error.code, .notFound)
        XCTAssertEqual(error.attempts, 1)
        XCTAssertEqual(node.addItemKeys.count, 2)
    }
}
