import CartAPI
import CartDomain
import CartTypes

// The hot cart operations for callers without a task per call (a load generator running
// dozens at once): the same requests, routing, retries and deadlines as the `async` ones,
// with the outcome passed to `completion` (see `start`).

extension CartClient {
    public func getCart(_ cart: CartID, completion: @escaping Completion<Cart>) {
        start(.cartGet, GetCartRequest(cart: cart), cart: cart) { result in completion(result.map(\.cart)) }
    }

    /// `readCart(_:_:)` with the reply passed to `completion`.
    public func readCart(_ cart: CartID, _ consistency: ReadConsistency, completion: @escaping Completion<CartReply>) {
        start(.cartGet, GetCartRequest(cart: cart, local: consistency.localField), cart: cart, consistency, completion: completion)
    }

    public func addItem(_ cart: CartID, item: ItemID, quantity: Int64, expectedVersion: Version? = nil,
                        requestKey: RequestKey? = nil, completion: @escaping Completion<CartWriteReply>) {
        let request = AddItemRequest(cart: cart, item: item, quantity: quantity, expectedVersion: expectedVersion,
                                     request: requestKey ?? makeRequestKey())
        start(.cartAddItem, request, cart: cart, completion: completion)
    }

    public func removeItem(_ cart: CartID, item: ItemID, expectedVersion: Version? = nil,
                           requestKey: RequestKey? = nil, completion: @escaping Completion<CartWriteReply>) {
        let request = RemoveItemRequest(cart: cart, item: item, expectedVersion: expectedVersion,
                                        request: requestKey ?? makeRequestKey())
        start(.cartRemoveItem, request, cart: cart, completion: completion)
    }

    public func setQuantity(_ cart: CartID, item: ItemID, quantity: Int64, expectedVersion: Version? = nil,
                            requestKey: RequestKey? = nil, completion: @escaping Completion<CartWriteReply>) {
        let request = SetQuantityRequest(cart: cart, item: item, quantity: quantity, expectedVersion: expectedVersion,
                                         request: requestKey ?? makeRequestKey())
        start(.cartSetQuantity, request, cart: cart, completion: completion)
    }
}
